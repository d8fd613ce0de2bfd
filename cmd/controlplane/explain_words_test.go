package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// shellWords splits a README command line as a POSIX shell would for the forms the examples
// use: words separated by spaces, '…' and "…" quoting, and "$(cat FILE)" inside double quotes.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case '\'', '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated %c in %q", c, s)
			}
			quoted := s[i+1 : i+1+end]
			if c == '"' {
				var err error
				if quoted, err = catSubstitution(quoted); err != nil {
					return nil, err
				}
			}
			cur.WriteString(quoted)
			inWord, i = true, i+1+end
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// catSubstitution replaces a whole "$(cat FILE)" with the file's content, trailing newlines
// removed as the shell does.
func catSubstitution(s string) (string, error) {
	file, ok := strings.CutPrefix(s, "$(cat ")
	if !ok {
		return s, nil
	}
	file, ok = strings.CutSuffix(file, ")")
	if !ok {
		return "", fmt.Errorf("unsupported substitution %q", s)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(data), "\n"), nil
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`--a 1 -H 'x: y z' --c "q r" --claims '{"a":"b c"}'`)
	want := []string{"--a", "1", "-H", "x: y z", "--c", "q r", "--claims", `{"a":"b c"}`}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("shellWords = %q, %v; want %q", got, err, want)
	}
	if _, err := shellWords(`--a 'open`); err == nil {
		t.Error("an unterminated quote must be an error")
	}
}
