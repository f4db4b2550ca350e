package records_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/records"
)

// BenchmarkDocuments keeps and reads back 1 MB documents, encrypted, on
// both databases: go test ./records -run XXX -bench Documents
func BenchmarkDocuments(b *testing.B) {
	for _, dialect := range recordstest.Dialects {
		b.Run(dialect+"/put-1MB", func(b *testing.B) {
			db := recordstest.Open(b, dialect)
			data := make([]byte, 1<<20)
			b.SetBytes(int64(len(data)))
			for i := 0; b.Loop(); i++ {
				_, _ = rand.Read(data[:32])
				doc := records.Document{CaseID: fmt.Sprint("case-", i), SHA256: records.SumSHA256(data), Name: "scan.pdf",
					ContentType: "application/pdf", Data: data}
				if _, err := db.PutDocument(context.Background(), doc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(dialect+"/read-1MB", func(b *testing.B) {
			db := recordstest.Open(b, dialect)
			data := make([]byte, 1<<20)
			_, _ = rand.Read(data)
			sha := records.SumSHA256(data)
			if _, err := db.PutDocument(context.Background(), records.Document{CaseID: "c", SHA256: sha, Name: "a.pdf", Data: data}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := db.Document(context.Background(), "c", sha); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTrailAppend appends audit entries one by one, as requests do.
func BenchmarkTrailAppend(b *testing.B) {
	for _, dialect := range recordstest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			db := recordstest.Open(b, dialect)
			e := records.Entry{Actor: "sb-leipzig", Role: "caseworker", Authority: "147130000000",
				CaseID: "0b9c8f5e-5a55-4d4f-9f43-000000000000", Action: "case.read", Detail: "GET /api/v1/applications/{id}",
				Address: "10.1.2.3"}
			for b.Loop() {
				if err := db.Append(context.Background(), e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
