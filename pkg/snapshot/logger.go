package snapshot

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/envoyproxy/go-control-plane/pkg/log"
)

// gcpLogger adapts slog to go-control-plane's four-method log.Logger. The library's Info
// lines are per-watch details (one per proxy and type), so they are logged at Debug.
type gcpLogger struct{ log *slog.Logger }

var _ log.Logger = gcpLogger{}

func (l gcpLogger) logf(level slog.Level, format string, args []any) {
	// Formatting is the costly part: skip it when the level is off. The library's interface
	// carries no context, hence Background.
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
}

func (l gcpLogger) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args) }
func (l gcpLogger) Infof(format string, args ...any)  { l.logf(slog.LevelDebug, format, args) }
func (l gcpLogger) Warnf(format string, args ...any)  { l.logf(slog.LevelWarn, format, args) }
func (l gcpLogger) Errorf(format string, args ...any) { l.logf(slog.LevelError, format, args) }
