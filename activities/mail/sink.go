package mail

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
)

// SinkPath is where the sink lists what it received.
const SinkPath = "/sandbox/mail"

// Limits of the sink's SMTP server.
const (
	maxMessage    = 10 << 20
	maxRecipients = 100
	idleTimeout   = time.Minute
)

// RefusedDomain is the domain whose recipients the sink refuses for good
// (550), so that refusals can be tried: ".invalid" never exists (RFC 2606).
const RefusedDomain = ".invalid"

// SinkConfig configures the mail sink.
type SinkConfig struct {
	Addr      string       // where the SMTP server listens, e.g. "127.0.0.1:0" or ":2525"
	StateFile string       // journal of the received mails; empty keeps them in memory
	Logger    *slog.Logger // nil means slog.Default()
}

// Received is one mail the sink took.
type Received struct {
	MessageID  string    `json:"messageId"`
	From       string    `json:"from"` // envelope sender
	To         []string  `json:"to"`   // envelope recipients
	Subject    string    `json:"subject"`
	Text       string    `json:"text"`
	Date       string    `json:"date,omitempty"` // the Date header as sent
	ReceivedAt time.Time `json:"receivedAt"`
	// Deliveries counts how often a mail with this Message-ID came.
	Deliveries int `json:"deliveries"`
}

// Sink is an SMTP server for development, tests and demos: it speaks enough
// SMTP for any client (HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps
// each message once per Message-ID, counts repeats, and refuses recipients
// under RefusedDomain. It is safe for concurrent use.
type Sink struct {
	cfg SinkConfig
	log *slog.Logger
	ln  net.Listener
	wg  sync.WaitGroup

	mails *sandbox.Arrivals[Received]

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

// NewSink starts a sink on cfg.Addr with what cfg.StateFile recorded.
func NewSink(cfg SinkConfig) (*Sink, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	mails, err := sandbox.OpenArrivals(cfg.StateFile, "mail",
		func(m Received) string { return m.MessageID }, func(m *Received) *int { return &m.Deliveries })
	if err != nil {
		return nil, fmt.Errorf("mail sink: %w", err)
	}
	s := &Sink{cfg: cfg, log: cfg.Logger.With("component", "mail-sink"), mails: mails, conns: map[net.Conn]bool{}}
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		mails.Close()
		return nil, fmt.Errorf("mail sink: listen on %s: %w", cfg.Addr, err)
	}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is the address the SMTP server listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Close stops the SMTP server, ends open sessions and closes the journal.
func (s *Sink) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return errors.Join(err, s.mails.Close())
}

// Mails returns a copy of the mails received, in order of first arrival.
// When the journal cannot be read (beyond sandbox.KeptInMemory mails), it
// logs the error and returns the mails read before it.
func (s *Sink) Mails() []Received {
	out, _, err := s.mails.List(func(Received) bool { return true })
	if err != nil {
		s.log.Error("Mails not read", "error", err)
	}
	for i := range out {
		out[i].To = append([]string(nil), out[i].To...)
	}
	return out
}

func (s *Sink) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(conn)
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
			conn.Close()
		}()
	}
}

// session speaks SMTP on one connection until QUIT, an error or Close.
func (s *Sink) session(conn net.Conn) {
	r := textproto.NewReader(bufio.NewReader(io.LimitReader(conn, 4*maxMessage)))
	w := bufio.NewWriter(conn)
	reply := func(lines ...string) bool {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil
	}
	var greeted, inMail bool
	var from string
	var to []string
	if !reply("220 ozgflow mail sink ESMTP") {
		return
	}
	for {
		_ = conn.SetDeadline(time.Now().Add(idleTimeout))
		line, err := r.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "HELO":
			greeted, inMail, from, to = true, false, "", nil
			reply("250 ozgflow mail sink")
		case "EHLO":
			greeted, inMail, from, to = true, false, "", nil
			reply("250-ozgflow mail sink", "250-8BITMIME", fmt.Sprintf("250 SIZE %d", maxMessage))
		case "MAIL":
			addr, ok := pathArg(arg, "FROM:")
			switch {
			case !greeted:
				reply("503 5.5.1 Say HELO or EHLO first")
			case !ok:
				reply("501 5.5.4 Syntax: MAIL FROM:<address>")
			default:
				inMail, from, to = true, addr, nil
				reply("250 2.1.0 OK")
			}
		case "RCPT":
			addr, ok := pathArg(arg, "TO:")
			switch {
			case !inMail:
				reply("503 5.5.1 MAIL first")
			case !ok || addr == "":
				reply("501 5.5.4 Syntax: RCPT TO:<address>")
			case strings.HasSuffix(strings.ToLower(addr), RefusedDomain):
				reply("550 5.1.1 No such mailbox: " + addr)
			case len(to) >= maxRecipients:
				reply("452 4.5.3 Too many recipients")
			default:
				to = append(to, addr)
				reply("250 2.1.5 OK")
			}
		case "DATA":
			if len(to) == 0 {
				reply("503 5.5.1 RCPT first")
				continue
			}
			if !reply("354 End data with <CR><LF>.<CR><LF>") {
				return
			}
			dot := r.DotReader()
			data, err := io.ReadAll(io.LimitReader(dot, maxMessage+1))
			if err == nil {
				_, err = io.Copy(io.Discard, dot)
			}
			if err != nil {
				return
			}
			if len(data) > maxMessage {
				reply("552 5.3.4 Message too big")
			} else if id, err := s.take(from, to, data); err != nil {
				s.log.Error("Mail not saved", "error", err)
				reply("451 4.3.0 Mail not saved")
			} else {
				reply("250 2.0.0 OK " + id)
			}
			inMail, from, to = false, "", nil
		case "RSET":
			inMail, from, to = false, "", nil
			reply("250 2.0.0 OK")
		case "NOOP":
			reply("250 2.0.0 OK")
		case "VRFY":
			reply("252 2.5.2 Cannot verify, but will accept")
		case "QUIT":
			reply("221 2.0.0 Bye")
			return
		default:
			reply("502 5.5.2 Command not recognised")
		}
	}
}

// pathArg reads "FROM:<addr> params" or "TO:<addr>"; the null path <> is
// an empty address.
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.Index(rest, ">")
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

// take keeps a message once per Message-ID and returns that ID.
func (s *Sink) take(from string, to []string, data []byte) (string, error) {
	m := Received{From: from, To: append([]string(nil), to...), ReceivedAt: time.Now().UTC()}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err == nil {
		m.MessageID = strings.TrimSpace(msg.Header.Get("Message-ID"))
		m.Subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		m.Text = bodyText(msg)
		m.Date = msg.Header.Get("Date")
	} else {
		m.Text = string(data)
	}
	if m.MessageID == "" {
		m.MessageID = fmt.Sprintf("<sink-%d@ozgflow.invalid>", time.Now().UnixNano())
	}
	duplicate, err := s.mails.Add(m)
	if err != nil {
		return "", err
	}
	if !duplicate {
		s.log.Info("Mail received", "messageId", m.MessageID)
	}
	return m.MessageID, nil
}

// bodyText decodes a single-part body's transfer encoding; line breaks
// become "\n".
func bodyText(msg *mail.Message) string {
	var body io.Reader = msg.Body
	switch strings.ToLower(strings.TrimSpace(msg.Header.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &crlfStripper{r: body})
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return ""
	}
	return strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}

// crlfStripper drops line breaks, which base64 bodies carry every 76 characters.
type crlfStripper struct{ r io.Reader }

func (c *crlfStripper) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	j := 0
	for _, b := range p[:n] {
		if b != '\r' && b != '\n' {
			p[j] = b
			j++
		}
	}
	return j, err
}

// Register adds GET /sandbox/mail to the root router r: an HTML page for
// browsers, JSON otherwise (?to= filters by recipient).
func (s *Sink) Register(r *mux.Router) {
	r.HandleFunc(SinkPath, s.handleList).Methods(http.MethodGet)
}

// mailList is the JSON answer of GET /sandbox/mail.
type mailList struct {
	Mails      []Received `json:"mails"`
	Duplicates int        `json:"duplicates"`
	SMTP       string     `json:"smtp"`
}

func (s *Sink) handleList(w http.ResponseWriter, r *http.Request) {
	to := strings.ToLower(r.URL.Query().Get("to"))
	out := mailList{SMTP: s.Addr()}
	var err error
	out.Mails, out.Duplicates, err = s.mails.List(func(m Received) bool { return to == "" || containsFold(m.To, to) })
	if err != nil {
		s.log.Error("Mails not listed", "error", err)
		sandbox.WriteError(w, http.StatusInternalServerError, "journal not read")
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := listPage.Execute(w, out); err != nil {
			s.log.Error("Mail page not rendered", "error", err)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

var listPage = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Postausgang (Sandbox) – ozgflow</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;padding:0 1rem;line-height:1.5}
article{border-bottom:1px solid #ccc;padding:.5rem 0}pre{white-space:pre-wrap;font-family:inherit}.muted{color:#555}</style>
</head>
<body><main>
<h1>Postausgang (Sandbox)</h1>
<p class="muted">SMTP auf {{.SMTP}}. {{len .Mails}} E-Mails{{if .Duplicates}}, {{.Duplicates}} Wiederholungen verworfen{{end}}.</p>
{{range .Mails}}<article>
<h2>{{.Subject}}</h2>
<p class="muted">An {{range $i, $t := .To}}{{if $i}}, {{end}}{{$t}}{{end}} · von {{.From}} · {{.ReceivedAt.Format "02.01.2006 15:04:05"}} · {{.MessageID}}{{if gt .Deliveries 1}} · {{.Deliveries}}-mal zugestellt{{end}}</p>
<pre>{{.Text}}</pre>
</article>{{else}}<p>Noch keine E-Mails.</p>{{end}}
</main></body>
</html>`))
