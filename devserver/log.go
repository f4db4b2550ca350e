package devserver

import (
	"context"
	"log/slog"

	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogLogger passes the server's logs to slog; the embedded server is chatty,
// so only warnings and errors get through.
type slogLogger struct{ log *slog.Logger }

func newLogger(l *slog.Logger) tlog.Logger { return slogLogger{log: l.With("component", "temporal")} }

func (s slogLogger) Debug(msg string, tags ...tag.Tag)  {}
func (s slogLogger) Info(msg string, tags ...tag.Tag)   {}
func (s slogLogger) Warn(msg string, tags ...tag.Tag)   { s.emit(slog.LevelDebug, msg, tags) }
func (s slogLogger) Error(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }
func (s slogLogger) DPanic(msg string, tags ...tag.Tag) { s.emit(slog.LevelError, msg, tags) }
func (s slogLogger) Panic(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }
func (s slogLogger) Fatal(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }

func (s slogLogger) emit(level slog.Level, msg string, tags []tag.Tag) {
	if !s.log.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]slog.Attr, len(tags))
	for i, t := range tags {
		attrs[i] = slog.Any(t.Key(), t.Value())
	}
	s.log.LogAttrs(context.Background(), level, msg, attrs...)
}
