package devserver

import (
	"fmt"
	"net/url"
	"strings"

	"go.temporal.io/server/common/config"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// Postgres names the PostgreSQL server and databases of a Temporal server that
// keeps its state there instead of in SQLite.
type Postgres struct {
	Addr               string // host:port
	User, Password     string
	Database           string // e.g. temporal
	VisibilityDatabase string // e.g. temporal_visibility
}

// ParsePostgresURL reads postgres://user:password@host:port/database; the
// visibility database is the same name with "_visibility" appended.
func ParsePostgresURL(raw string) (Postgres, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return Postgres{}, fmt.Errorf("want postgres://user:password@host:port/database, got %q", raw)
	}
	p := Postgres{Addr: u.Host, User: u.User.Username(), Database: strings.TrimPrefix(u.Path, "/")}
	p.Password, _ = u.User.Password()
	if !strings.Contains(p.Addr, ":") {
		p.Addr += ":5432"
	}
	if p.Database == "" {
		p.Database = "temporal"
	}
	p.VisibilityDatabase = p.Database + "_visibility"
	return p, nil
}

func (p Postgres) sqlConfig(database string) *config.SQL {
	return &config.SQL{
		PluginName:      postgresql.PluginName,
		DatabaseName:    database,
		ConnectAddr:     p.Addr,
		ConnectProtocol: "tcp",
		User:            p.User,
		Password:        p.Password,
		MaxConns:        20,
		MaxIdleConns:    20,
	}
}

// SetupPostgres creates the two databases if they are missing and brings
// their schemas to the version this server needs, using Temporal's own SQL
// schema tool packages. Running it again is harmless.
func SetupPostgres(p Postgres) error {
	logger := tlog.NewNoopLogger()
	for _, db := range []struct{ name, schema string }{
		{p.Database, "postgresql/v12/temporal"},
		{p.VisibilityDatabase, "postgresql/v12/visibility"},
	} {
		cfg := p.sqlConfig(db.name)
		if err := sqltool.DoCreateDatabase(cfg, "postgres", logger); err != nil && !strings.Contains(err.Error(), "already exists") {
			return fmt.Errorf("create database %s: %w", db.name, err)
		}
		conn, err := sqltool.NewConnection(p.sqlConfig(db.name), logger)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", db.name, err)
		}
		if version, err := conn.ReadSchemaVersion(); err != nil || version == "" {
			setup := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger)
			if err := setup.Run(); err != nil {
				conn.Close()
				return fmt.Errorf("set up schema versioning in %s: %w", db.name, err)
			}
		}
		update := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: db.name, SchemaName: db.schema}, logger)
		err = update.Run()
		conn.Close()
		if err != nil {
			return fmt.Errorf("update schema of %s: %w", db.name, err)
		}
	}
	return nil
}
