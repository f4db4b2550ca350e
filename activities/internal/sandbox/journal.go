package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Journal keeps a sandbox's state (payment provider, signer, Fachverfahren
// simulator, portal, mail sink) as an append-only file of JSON lines, so
// that `ozgflow dev` finds it again after a restart. Each change appends one
// line, so saving costs the same for the first record and the
// hundred-thousandth. At start the lines are replayed in order.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
	size int64 // bytes of whole lines in the file
}

// OpenJournal replays the journal at path through replay, line by line, and
// opens it for appending. A last line cut short by a crash is ignored and
// cut off the file, so that the next line appended starts on a line of
// its own; any other line replay refuses fails the start, and so does a
// file whose only line is no record. An empty path
// gives a journal that keeps nothing.
func OpenJournal(path string, replay func(line []byte) error) (*Journal, error) {
	if path == "" {
		return &Journal{}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("journal directory: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	keep, newline := len(b), false // how much of the file stays; whether it lacks its last newline
	for offset, n := 0, 1; offset < len(b); n++ {
		end := bytes.IndexByte(b[offset:], '\n')
		complete := end >= 0
		if !complete {
			end = len(b) - offset
		}
		line := b[offset : offset+end]
		if len(bytes.TrimSpace(line)) > 0 {
			if err := replay(line); err != nil {
				if !complete && n > 1 {
					keep = offset // the write of the last line was cut short
					break
				}
				return nil, fmt.Errorf("journal %s line %d: %w", path, n, err)
			}
		}
		if !complete {
			newline = true // the last line is whole but its newline was not written
			break
		}
		offset += end + 1
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	size := int64(keep)
	if keep < len(b) {
		err = f.Truncate(size)
	} else if newline {
		_, err = f.Write([]byte("\n"))
		size++
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("mend journal %s: %w", path, err)
	}
	return &Journal{f: f, path: path, size: size}, nil
}

// Append writes v as one line. A line whose write failed is cut off
// again, so that the next one starts on a line of its own.
func (j *Journal) Append(v any) error {
	if j.f == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return errors.Join(fmt.Errorf("append to journal: %w", err), j.f.Truncate(j.size))
	}
	j.size += int64(len(b)) + 1
	return nil
}

// ErrStop ends a Read early without an error.
var ErrStop = errors.New("stop reading the journal")

// Read passes each line the journal holds when Read is called to fn, in
// order; appends meanwhile go on and are not read. A journal that keeps
// nothing has no lines. fn returning ErrStop ends the reading; any other
// error of fn ends it and is returned.
func (j *Journal) Read(fn func(line []byte) error) error {
	if j.f == nil {
		return nil
	}
	j.mu.Lock()
	size := j.size
	j.mu.Unlock()
	f, err := os.Open(j.path)
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.LimitReader(f, size), 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			switch err := fn(line); {
			case errors.Is(err, ErrStop):
				return nil
			case err != nil:
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read journal: %w", err)
		}
	}
}

// Close closes the file.
func (j *Journal) Close() error {
	if j.f == nil {
		return nil
	}
	return j.f.Close()
}
