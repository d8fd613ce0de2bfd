package model

import "strings"

// Credential SDS names (SEMANTICS.md §6.3, §7.3). The rule lives here, once, because two sides
// must agree on it: translation reads the Secrets, and the Kubernetes source decides which
// Secrets to watch. If the watched set were smaller than the read set a credential would
// silently go unserved.
const (
	// CredentialScheme prefixes the SDS names served from Kubernetes Secrets.
	CredentialScheme = "kubernetes://"
	// CredentialCASuffix names a credential's CA bundle resource: "kubernetes://N-cacert".
	CredentialCASuffix = "-cacert"
)

// SecretRef names a Secret a credential is read from. An empty Namespace is the namespace of
// the proxy reading it.
type SecretRef struct {
	Namespace, Name string
}

// CredentialSDSName is the SDS name a credentialName is requested as: a bare name (or
// "ns/name") is a Kubernetes Secret; a name with a scheme is kept as written.
func CredentialSDSName(credentialName string) string {
	if strings.Contains(credentialName, "://") {
		return credentialName
	}
	return CredentialScheme + credentialName
}

// CredentialCASDSName is the SDS name of the CA bundle that goes with credentialName.
// caCertCredentialName (Gateway servers only; "" elsewhere) replaces it, as in Istio, and is
// used as written when it already names a CA resource ("N-cacert"); a bare "N" reads the CA
// of Secret N (N-cacert first), the field's documented meaning.
func CredentialCASDSName(caCertCredentialName, credentialName string) string {
	if caCertCredentialName == "" {
		return CredentialSDSName(credentialName) + CredentialCASuffix
	}
	name := CredentialSDSName(caCertCredentialName)
	if strings.HasSuffix(name, CredentialCASuffix) {
		return name
	}
	return name + CredentialCASuffix
}

// CredentialSecrets lists the Secrets an SDS credential name is read from, in the order they
// are tried. A certificate (ca false) "kubernetes://N" or "kubernetes://ns/N" reads Secret N.
// A CA bundle (ca true) "kubernetes://N-cacert" reads Secret "N-cacert" if it exists, else N.
// It is nil for other schemes, an empty name and an explicit empty namespace
// ("kubernetes:///N"), which no Secret serves.
func CredentialSecrets(sdsName string, ca bool) []SecretRef {
	rest, ok := strings.CutPrefix(sdsName, CredentialScheme)
	if !ok {
		return nil
	}
	if !ca {
		if ref, ok := credentialSecret(rest); ok {
			return []SecretRef{ref}
		}
		return nil
	}
	base := strings.TrimSuffix(rest, CredentialCASuffix)
	var out []SecretRef
	for _, n := range []string{base + CredentialCASuffix, base} {
		if ref, ok := credentialSecret(n); ok {
			out = append(out, ref)
		}
	}
	return out
}

// credentialSecret splits "N" or "ns/N"; ok is false when either part is empty.
func credentialSecret(s string) (SecretRef, bool) {
	ns, name, found := strings.Cut(s, "/")
	if !found {
		ns, name = "", s
	} else if ns == "" {
		return SecretRef{}, false
	}
	return SecretRef{Namespace: ns, Name: name}, name != ""
}
