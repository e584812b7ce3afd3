// Package devsmtp is a small in-process SMTP server that keeps every message
// it receives in memory: `agora dev` captures mail with it and tests count
// what arrived.
package devsmtp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// Message is one received email.
type Message struct {
	From       string
	To         []string
	Subject    string
	Header     mail.Header
	Text, HTML string
	Raw        []byte
	Received   time.Time
}

// Server is a running SMTP server.
type Server struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []Message
	max  int
	wg   sync.WaitGroup
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves until Close. It keeps
// the newest max messages (0 means 10,000).
func Start(addr string, max int) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if max <= 0 {
		max = 10000
	}
	s := &Server{ln: ln, max: max}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the smtp:// URL of the server (AGORA_SMTP_URL).
func (s *Server) URL() string { return "smtp://" + s.Addr() }

// Close stops the server.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// Messages returns a copy of what arrived, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// To returns the messages received for one address.
func (s *Server) To(addr string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, r := range m.To {
			if strings.EqualFold(r, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

// Wait polls until pred holds for the received messages or ctx ends.
func (s *Server) Wait(ctx context.Context, pred func([]Message) bool) ([]Message, error) {
	for {
		msgs := s.Messages()
		if pred(msgs) {
			return msgs, nil
		}
		select {
		case <-ctx.Done():
			return msgs, fmt.Errorf("waiting for mail: %w (have %d messages)", ctx.Err(), len(msgs))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(time.Minute))
			s.session(conn)
		}()
	}
}

// session speaks just enough SMTP (RFC 5321) for real clients: EHLO/HELO,
// MAIL, RCPT, DATA, RSET, NOOP, QUIT.
func (s *Server) session(conn net.Conn) {
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	reply := func(line string) { fmt.Fprintf(w, "%s\r\n", line); w.Flush() }
	reply("220 agora-devsmtp ready")
	var from string
	var to []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO":
			fmt.Fprintf(w, "250-agora-devsmtp\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 26214400\r\n")
			w.Flush()
		case "HELO":
			reply("250 agora-devsmtp")
		case "MAIL":
			from, to = addrArg(line), nil
			reply("250 OK")
		case "RCPT":
			to = append(to, addrArg(line))
			reply("250 OK")
		case "DATA":
			reply("354 end data with <CR><LF>.<CR><LF>")
			raw, err := readData(r)
			if err != nil {
				return
			}
			s.store(from, to, raw)
			reply("250 OK queued")
		case "RSET":
			from, to = "", nil
			reply("250 OK")
		case "NOOP":
			reply("250 OK")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 command not implemented")
		}
	}
}

func addrArg(line string) string {
	if i := strings.IndexByte(line, '<'); i >= 0 {
		if j := strings.IndexByte(line[i:], '>'); j > 0 {
			return line[i+1 : i+j]
		}
	}
	_, after, _ := strings.Cut(line, ":")
	return strings.TrimSpace(after)
}

func readData(r *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line == ".\r\n" || line == ".\n" {
			return buf.Bytes(), nil
		}
		buf.WriteString(strings.TrimPrefix(line, "."))
	}
}

func (s *Server) store(from string, to []string, raw []byte) {
	m := Message{From: from, To: to, Raw: raw, Received: time.Now()}
	if pm, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Header = pm.Header
		dec := new(mime.WordDecoder)
		if subj, err := dec.DecodeHeader(pm.Header.Get("Subject")); err == nil {
			m.Subject = subj
		}
		m.Text, m.HTML = bodies(pm.Header.Get("Content-Type"), pm.Header.Get("Content-Transfer-Encoding"), pm.Body)
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	if len(s.msgs) > s.max {
		s.msgs = s.msgs[len(s.msgs)-s.max:]
	}
	s.mu.Unlock()
}

// bodies extracts the text and HTML parts of a (possibly multipart) body.
func bodies(contentType, encoding string, body io.Reader) (text, html string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return text, html
			}
			t, h := bodies(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if text == "" {
				text = t
			}
			if html == "" {
				html = h
			}
		}
	}
	b, err := io.ReadAll(decode(encoding, body))
	if err != nil && !errors.Is(err, io.EOF) {
		return "", ""
	}
	if mt == "text/html" {
		return "", string(b)
	}
	return string(b), ""
}
