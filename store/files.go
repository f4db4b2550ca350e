package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// File is a document an applicant uploaded with an answer. The case keeps
// only its name, type, size and hash (ozgflow.Attachment); the bytes live
// here, under the case and the hash, so the same document is kept once.
type File struct {
	Name        string
	ContentType string
	SHA256      string
	Data        []byte
}

// Attachment is what the case records of the file.
func (f File) Attachment() ozgflow.Attachment {
	return ozgflow.Attachment{Name: f.Name, ContentType: f.ContentType, Size: int64(len(f.Data)), SHA256: f.SHA256}
}

func (s *Store) fileKey(caseID, sha string) string { return s.prefix + "file:" + caseID + ":" + sha }

// SaveFile keeps the bytes of an uploaded document. The hash must be the
// SHA-256 of the bytes, so the key always names its content. created is
// false when the case already holds these bytes; the first name stays.
func (s *Store) SaveFile(ctx context.Context, caseID string, f File) (created bool, err error) {
	sum := sha256.Sum256(f.Data)
	if f.SHA256 != hex.EncodeToString(sum[:]) {
		return false, fmt.Errorf("save file of case %s: the hash does not match the bytes", caseID)
	}
	created, err = saveFileScript.Run(ctx, s.rdb, []string{s.fileKey(caseID, f.SHA256)},
		f.Data, f.Name, f.ContentType, len(f.Data)).Bool()
	if err != nil {
		return false, fmt.Errorf("save file of case %s: %w", caseID, err)
	}
	return created, nil
}

// saveFileScript writes a file's fields at once unless the key holds it.
var saveFileScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'data') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'name', ARGV[2], 'contentType', ARGV[3], 'size', ARGV[4])
return 1`)

// File returns an uploaded document of a case by its hash.
func (s *Store) File(ctx context.Context, caseID, sha string) (File, error) {
	vals, err := s.rdb.HMGet(ctx, s.fileKey(caseID, sha), "name", "contentType", "data").Result()
	if err != nil {
		return File{}, fmt.Errorf("read file of case %s: %w", caseID, err)
	}
	data, ok := vals[2].(string)
	if !ok {
		return File{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "No document %s in application %s.", sha, caseID)
	}
	name, _ := vals[0].(string)
	contentType, _ := vals[1].(string)
	return File{Name: name, ContentType: contentType, SHA256: sha, Data: []byte(data)}, nil
}

// HasFile reports whether a case holds the document with the given hash.
func (s *Store) HasFile(ctx context.Context, caseID, sha string) (bool, error) {
	n, err := s.rdb.HExists(ctx, s.fileKey(caseID, sha), "data").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("look up file of case %s: %w", caseID, err)
	}
	return n, nil
}

// DeleteFile removes a document, for an upload whose answer was refused.
func (s *Store) DeleteFile(ctx context.Context, caseID, sha string) error {
	if err := s.rdb.Del(ctx, s.fileKey(caseID, sha)).Err(); err != nil {
		return fmt.Errorf("delete file of case %s: %w", caseID, err)
	}
	return nil
}
