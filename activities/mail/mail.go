// Package mail sends email notices over SMTP and holds a mail sink: a small
// SMTP server for development, tests and demos that keeps what it receives,
// once per Message-ID, and lists it at /sandbox/mail.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/locale"
)

// Config says where and as whom the Mailer sends.
type Config struct {
	Addr     string // host:port of the SMTP server (OZGFLOW_SMTP_ADDR)
	From     string // sender, e.g. "Stadt Leipzig <noreply@leipzig.de>" (OZGFLOW_SMTP_FROM)
	Username string // for SMTP AUTH PLAIN, if the server wants it
	Password string
	// HelloName is the name given in EHLO; empty means "localhost".
	HelloName string
	// Timeout bounds one send when the context has no deadline; zero: 30 s.
	Timeout time.Duration
}

// Mailer sends notices over SMTP: STARTTLS when the server offers it, AUTH
// PLAIN when a username is set (net/smtp allows it only over TLS or to
// localhost). The Message-ID derives from the notice ID, so that a notice
// sent twice can be recognised as one. It is safe for concurrent use.
type Mailer struct {
	cfg  Config
	from *mail.Address
	host string
	now  func() time.Time
}

var _ activities.Mailer = (*Mailer)(nil)

// New checks the configuration and returns a Mailer.
func New(cfg Config) (*Mailer, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("OZGFLOW_SMTP_ADDR %q: want host:port", cfg.Addr)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("OZGFLOW_SMTP_FROM %q: %w", cfg.From, err)
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Mailer{cfg: cfg, from: from, host: host, now: time.Now}, nil
}

// Send delivers one notice to the SMTP server. An address that is none, or
// that the server refuses for good (5xx to RCPT), wraps
// activities.ErrAddressRefused; anything else may succeed on a later try.
func (m *Mailer) Send(ctx context.Context, req activities.EmailRequest) error {
	to, err := mail.ParseAddress(req.To)
	if err != nil {
		return fmt.Errorf("%w: %v", activities.ErrAddressRefused, err)
	}
	msg := Message(m.from, to, req, m.now())
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.cfg.Timeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", m.cfg.Addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", m.cfg.Addr, err)
	}
	defer c.Close()
	if err := m.conversation(c, to.Address, msg); err != nil {
		return fmt.Errorf("smtp %s: %w", m.cfg.Addr, err)
	}
	return nil
}

// conversation runs one SMTP transaction on a connected client.
func (m *Mailer) conversation(c *smtp.Client, to string, msg []byte) error {
	if err := c.Hello(m.cfg.HelloName); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: m.host}); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if m.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server offers no AUTH, but OZGFLOW_SMTP_USERNAME is set")
		}
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return fmt.Errorf("%w: %v", activities.ErrAddressRefused, err)
		}
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return c.Quit()
}

// Message renders a notice as an RFC 5322 message: UTF-8 text, quoted-
// printable, the subject encoded per RFC 2047, marked as automatically
// generated (RFC 3834), with a Message-ID made of the notice ID and the
// sender's domain.
func Message(from, to *mail.Address, req activities.EmailRequest, now time.Time) []byte {
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeSubject(req.Subject))
	header("Date", now.In(locale.Berlin).Format(time.RFC1123Z)) // German local time, as the text's deadlines
	header("Message-ID", MessageID(req.NoticeID, from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(req.Text, "\r\n", "\n"), "\n", "\r\n")
	_, _ = qp.Write([]byte(text))
	_ = qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}

// MessageID is the Message-ID of a notice sent from the given address:
// "<noticeID@domain>", the same for every send of the notice.
func MessageID(noticeID, from string) string {
	domain := "ozgflow.invalid"
	if at := strings.LastIndex(from, "@"); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	id := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_", r) {
			return r
		}
		return '.'
	}, noticeID)
	return "<" + id + "@" + domain + ">"
}

// encodeSubject keeps a subject on one header line: line breaks become
// spaces, anything beyond ASCII becomes RFC 2047 encoded words, folded
// between the words.
func encodeSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}
