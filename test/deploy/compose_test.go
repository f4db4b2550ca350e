// Package deploy checks the deployment files (docker-compose.yml, Dockerfile,
// .dockerignore) without a Docker engine, which CI does not have: the
// services the stack needs are there, wired to each other, published on the
// documented ports, configured with every variable README.md's configuration
// table names for their role, with every secret required and none defaulted,
// and the image builds ./cmd/ozgflow and runs as a non-root user; the
// Keycloak realm and the API clients the stack mounts from deploy/ fit the
// gateway's configuration (identity_test.go).
package deploy

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// root is the repository root, seen from this package's directory.
var root = filepath.Join("..", "..")

// ozgflowRoles are the services that run the ozgflow image, by role.
var ozgflowRoles = []string{"sandbox", "gateway", "worker"}

// searchAttributes are the custom search attributes ozgflow's workflows set
// (devserver.SearchAttributes registers the same in `dev`).
var searchAttributes = map[string]string{
	"OzgService":    "Keyword",
	"OzgAuthority":  "Keyword",
	"OzgStatus":     "Keyword",
	"OzgStage":      "Keyword",
	"OzgQueue":      "Keyword",
	"OzgDueAt":      "Datetime",
	"OzgDefinition": "Keyword",
}

// composeFile is the part of the Compose file format the tests look at.
// Fields with several forms in the format (short and long syntax) are kept
// as yaml.Node-free `any` and normalised by the helpers below.
type composeFile struct {
	Name     string             `yaml:"name"`
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
	Configs  map[string]struct {
		Content string `yaml:"content"`
		File    string `yaml:"file"`
	} `yaml:"configs"`
}

type service struct {
	Image       string       `yaml:"image"`
	Build       any          `yaml:"build"`
	Command     any          `yaml:"command"`
	Entrypoint  any          `yaml:"entrypoint"`
	Environment any          `yaml:"environment"`
	Ports       []any        `yaml:"ports"`
	DependsOn   any          `yaml:"depends_on"`
	Healthcheck *healthcheck `yaml:"healthcheck"`
	Deploy      struct {
		Replicas *int `yaml:"replicas"`
	} `yaml:"deploy"`
	Volumes []any `yaml:"volumes"`
	Configs []any `yaml:"configs"`
}

type healthcheck struct {
	Test    any  `yaml:"test"`
	Disable bool `yaml:"disable"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatalf("read docker-compose.yml: %v", err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml is not valid YAML for the Compose format: %v", err)
	}
	if len(c.Services) == 0 {
		t.Fatal("docker-compose.yml defines no services")
	}
	return c
}

func mustService(t *testing.T, c composeFile, name string) service {
	t.Helper()
	s, ok := c.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml has no service %q (services: %s)", name, strings.Join(serviceNames(c), ", "))
	}
	return s
}

func serviceNames(c composeFile) []string {
	var names []string
	for n := range c.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// stringList normalises a command, entrypoint or healthcheck test: a list
// stays as it is, a string is split into words.
func stringList(t *testing.T, v any) []string {
	t.Helper()
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	t.Fatalf("expected a string or a list, got %T (%v)", v, v)
	return nil
}

// environment normalises a service's environment (map or KEY=VALUE list).
func environment(t *testing.T, s service) map[string]string {
	t.Helper()
	env := map[string]string{}
	switch v := s.Environment.(type) {
	case nil:
	case map[string]any:
		for k, val := range v {
			if val == nil {
				env[k] = ""
			} else {
				env[k] = fmt.Sprint(val)
			}
		}
	case []any:
		for _, e := range v {
			k, val, _ := strings.Cut(fmt.Sprint(e), "=")
			env[k] = val
		}
	default:
		t.Fatalf("environment: expected a map or a list, got %T", v)
	}
	return env
}

// dependsOn normalises depends_on to service -> condition; the list form
// means service_started.
func dependsOn(t *testing.T, s service) map[string]string {
	t.Helper()
	deps := map[string]string{}
	switch v := s.DependsOn.(type) {
	case nil:
	case []any:
		for _, e := range v {
			deps[fmt.Sprint(e)] = "service_started"
		}
	case map[string]any:
		for name, spec := range v {
			cond := "service_started"
			if m, ok := spec.(map[string]any); ok {
				if c, ok := m["condition"].(string); ok {
					cond = c
				}
			}
			deps[name] = cond
		}
	default:
		t.Fatalf("depends_on: expected a map or a list, got %T", v)
	}
	return deps
}

type portMapping struct{ published, target string }

// ports normalises the short ("[ip:]published:target[/proto]") and long
// ({target, published}) port syntax.
func ports(t *testing.T, s service) []portMapping {
	t.Helper()
	var out []portMapping
	for _, p := range s.Ports {
		switch p := p.(type) {
		case string:
			spec, _, _ := strings.Cut(p, "/")
			parts := strings.Split(spec, ":")
			switch len(parts) {
			case 1:
				out = append(out, portMapping{target: parts[0]})
			default:
				out = append(out, portMapping{published: parts[len(parts)-2], target: parts[len(parts)-1]})
			}
		case int:
			out = append(out, portMapping{target: strconv.Itoa(p)})
		case map[string]any:
			out = append(out, portMapping{published: fmt.Sprint(p["published"]), target: fmt.Sprint(p["target"])})
		default:
			t.Fatalf("ports: unexpected entry %T (%v)", p, p)
		}
	}
	return out
}

// build normalises the build section to its context and Dockerfile.
func build(t *testing.T, s service) (context, dockerfile string, ok bool) {
	t.Helper()
	switch b := s.Build.(type) {
	case nil:
		return "", "", false
	case string:
		return b, "Dockerfile", true
	case map[string]any:
		context, dockerfile = ".", "Dockerfile"
		if c, ok := b["context"].(string); ok {
			context = c
		}
		if d, ok := b["dockerfile"].(string); ok {
			dockerfile = d
		}
		return context, dockerfile, true
	}
	t.Fatalf("build: expected a string or a map, got %T", s.Build)
	return "", "", false
}

// port returns the port of a listen address such as ":8080".
func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	return p
}

// script is everything a one-shot service runs, as one string.
func script(t *testing.T, s service) string {
	t.Helper()
	return strings.Join(append(stringList(t, s.Entrypoint), stringList(t, s.Command)...), " ")
}

func TestComposeHasEveryService(t *testing.T) {
	c := loadCompose(t)
	for _, tc := range []struct{ name, why string }{
		{"postgresql", "Temporal's persistence and visibility store"},
		{"temporal-schema", "sets up Temporal's schemas before the server starts"},
		{"temporal", "the Temporal server"},
		{"temporal-ui", "Temporal's Web UI"},
		{"redis", "the projections"},
		{"sandbox", "payment, signer and Fachverfahren sandboxes"},
		{"gateway", "the HTTP gateway role"},
		{"worker", "the worker role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := c.Services[tc.name]; !ok {
				t.Errorf("service %q is missing (%s); services: %s", tc.name, tc.why, strings.Join(serviceNames(c), ", "))
			}
		})
	}
}

func TestComposePublishedPorts(t *testing.T) {
	c := loadCompose(t)
	for _, tc := range []struct {
		service, published, target string
	}{
		{"gateway", "8080", "8080"},
		{"sandbox", "8081", "8080"},
		{"temporal-ui", "8233", "8080"},
	} {
		t.Run(tc.service, func(t *testing.T) {
			got := ports(t, mustService(t, c, tc.service))
			if !slices.Contains(got, portMapping{published: tc.published, target: tc.target}) {
				t.Errorf("%s must publish host port %s to container port %s; it publishes %v", tc.service, tc.published, tc.target, got)
			}
		})
	}
}

func TestComposeWorkerReplicas(t *testing.T) {
	w := mustService(t, loadCompose(t), "worker")
	if w.Deploy.Replicas == nil {
		t.Fatal("worker has no deploy.replicas; the stack runs 2 workers to show they scale out")
	}
	if *w.Deploy.Replicas != 2 {
		t.Errorf("worker has deploy.replicas %d, want 2", *w.Deploy.Replicas)
	}
	if got := ports(t, w); len(got) > 0 {
		t.Errorf("worker publishes ports %v: with several replicas the host ports collide", got)
	}
}

func TestComposeRedisPersistsWithAOF(t *testing.T) {
	r := mustService(t, loadCompose(t), "redis")
	cmd := stringList(t, r.Command)
	i := slices.Index(cmd, "--appendonly")
	if i < 0 || i+1 >= len(cmd) || cmd[i+1] != "yes" {
		t.Errorf("redis must run with --appendonly yes so projections survive a restart; command is %q", cmd)
	}
	if len(r.Volumes) == 0 {
		t.Error("redis has no volume for /data: the append-only file would be lost with the container")
	}
	if r.Healthcheck == nil || r.Healthcheck.Disable {
		t.Error("redis has no healthcheck: gateway and worker cannot wait for it to be healthy")
	}
}

func TestComposeOzgflowServices(t *testing.T) {
	c := loadCompose(t)
	for _, role := range ozgflowRoles {
		t.Run(role, func(t *testing.T) {
			s := mustService(t, c, role)
			context, dockerfile, ok := build(t, s)
			if !ok {
				t.Fatalf("%s does not build from the Dockerfile (no build section)", role)
			}
			df := filepath.Join(root, context, dockerfile)
			if filepath.Clean(df) != filepath.Clean(filepath.Join(root, "Dockerfile")) {
				t.Errorf("%s builds %s, want the repository's Dockerfile", role, df)
			}
			if cmd := stringList(t, s.Command); len(cmd) == 0 || cmd[0] != role {
				t.Errorf("%s must run `ozgflow %s` (command [%q]); command is %q", role, role, role, cmd)
			}
			if s.Healthcheck == nil || s.Healthcheck.Disable {
				t.Fatalf("%s has no healthcheck", role)
			}
			test := stringList(t, s.Healthcheck.Test)
			if len(test) < 4 || test[0] != "CMD" || test[1] != "/ozgflow" || test[2] != "healthcheck" {
				t.Fatalf(`%s healthcheck is %q; the distroless image has no shell or curl, want ["CMD", "/ozgflow", "healthcheck", URL]`, role, test)
			}
			u, err := url.Parse(test[3])
			if err != nil {
				t.Fatalf("%s healthcheck URL %q: %v", role, test[3], err)
			}
			env := environment(t, s)
			listen := env["OZGFLOW_ADDR"]
			if listen == "" {
				listen = ":8080"
			}
			if role == "worker" {
				if listen = env["OZGFLOW_METRICS_ADDR"]; listen == "" {
					listen = ":9090"
				}
			}
			if u.Port() != port(t, listen) || u.Path != "/readyz" {
				t.Errorf("%s healthcheck asks %s, but the role serves /readyz on %s", role, test[3], listen)
			}
		})
	}
}

// readmeConfig reads README.md's configuration table: variable -> the roles
// in its "used by" column.
func readmeConfig(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatalf("open README.md: %v", err)
	}
	defer f.Close()
	names := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	vars := map[string][]string{}
	inSection, varCol, usedCol := false, -1, -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") {
			inSection = strings.TrimSpace(strings.TrimPrefix(line, "## ")) == "Configuration"
			continue
		}
		if !inSection || !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if usedCol < 0 {
			for i, c := range cells {
				switch strings.ToLower(c) {
				case "variable":
					varCol = i
				case "used by":
					usedCol = i
				}
			}
			if varCol < 0 || usedCol < 0 {
				t.Fatalf("README.md's configuration table has no 'variable' and 'used by' columns: %q", line)
			}
			continue
		}
		if strings.Trim(line, "|-: ") == "" || len(cells) <= usedCol {
			continue // the separator row
		}
		var roles []string
		for _, r := range strings.Split(cells[usedCol], ",") {
			if r = strings.ToLower(strings.TrimSpace(r)); r != "" {
				roles = append(roles, r)
			}
		}
		for _, m := range names.FindAllStringSubmatch(cells[varCol], -1) {
			vars[m[1]] = roles
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read README.md: %v", err)
	}
	if len(vars) == 0 {
		t.Fatal("README.md has no configuration table under '## Configuration'")
	}
	return vars
}

func TestComposeEnvironmentFollowsREADME(t *testing.T) {
	c := loadCompose(t)
	config := readmeConfig(t)
	for _, tc := range []struct {
		role string
		all  bool     // rows used by "all" apply to this role
		must []string // read from the README too; guards against a table the parser misreads
	}{
		{role: "gateway", all: true, must: []string{"TEMPORAL_ADDRESS", "OZGFLOW_SECRET", "REDIS_URL", "OZGFLOW_ADDR"}},
		{role: "worker", all: true, must: []string{"TEMPORAL_ADDRESS", "OZGFLOW_SECRET", "REDIS_URL", "OZGFLOW_PAYMENT_URL"}},
		{role: "sandbox", all: false},
	} {
		t.Run(tc.role, func(t *testing.T) {
			env := environment(t, mustService(t, c, tc.role))
			var want []string
			for name, roles := range config {
				if slices.Contains(roles, tc.role) || (tc.all && slices.Contains(roles, "all")) {
					want = append(want, name)
				}
			}
			slices.Sort(want)
			for _, name := range tc.must {
				if !slices.Contains(want, name) {
					t.Errorf("README.md's configuration table does not list %s for %s (read: %v)", name, tc.role, want)
				}
			}
			for _, name := range want {
				if _, ok := env[name]; !ok {
					t.Errorf("%s's environment lacks %s, which README.md's configuration table names for the %s role (used by: %s)",
						tc.role, name, tc.role, strings.Join(config[name], ", "))
				}
			}
		})
	}
}

// TestComposeReferences checks what `docker compose config` would reject:
// dependencies on services, volumes and configs that are not defined.
func TestComposeReferences(t *testing.T) {
	c := loadCompose(t)
	for _, name := range serviceNames(c) {
		s := c.Services[name]
		t.Run(name, func(t *testing.T) {
			for dep, cond := range dependsOn(t, s) {
				if _, ok := c.Services[dep]; !ok {
					t.Errorf("%s depends on %s, which is not a service", name, dep)
				}
				if !slices.Contains([]string{"service_started", "service_healthy", "service_completed_successfully"}, cond) {
					t.Errorf("%s waits for %s with unknown condition %q", name, dep, cond)
				}
				if d, ok := c.Services[dep]; ok && cond == "service_healthy" && (d.Healthcheck == nil || d.Healthcheck.Disable) {
					t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
				}
			}
			for _, v := range s.Volumes {
				src := ""
				switch v := v.(type) {
				case string:
					src, _, _ = strings.Cut(v, ":")
				case map[string]any:
					if v["type"] == "volume" {
						src, _ = v["source"].(string)
					}
				}
				if src == "" || strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") || strings.HasPrefix(src, "~") {
					continue // a bind mount or an anonymous volume
				}
				if _, ok := c.Volumes[src]; !ok {
					t.Errorf("%s mounts volume %s, which is not declared under volumes:", name, src)
				}
			}
			for _, cfg := range s.Configs {
				src := fmt.Sprint(cfg)
				if m, ok := cfg.(map[string]any); ok {
					src = fmt.Sprint(m["source"])
				}
				if _, ok := c.Configs[src]; !ok {
					t.Errorf("%s uses config %s, which is not declared under configs:", name, src)
				}
			}
		})
	}
}

func TestComposeTemporalAddressAndDependencies(t *testing.T) {
	c := loadCompose(t)
	for _, role := range []string{"gateway", "worker"} {
		t.Run(role, func(t *testing.T) {
			s := mustService(t, c, role)
			env := environment(t, s)
			deps := dependsOn(t, s)

			host, p, err := net.SplitHostPort(env["TEMPORAL_ADDRESS"])
			if err != nil {
				t.Fatalf("%s: TEMPORAL_ADDRESS %q is not host:port: %v", role, env["TEMPORAL_ADDRESS"], err)
			}
			if host != "temporal" || p != "7233" {
				t.Errorf("%s: TEMPORAL_ADDRESS is %q, want the temporal service's frontend temporal:7233", role, env["TEMPORAL_ADDRESS"])
			}
			if ts, ok := c.Services[host]; !ok || !strings.HasPrefix(ts.Image, "temporalio/server:") {
				t.Errorf("%s: TEMPORAL_ADDRESS names %q, which is not a temporalio/server service", role, host)
			}

			u, err := url.Parse(env["REDIS_URL"])
			if err != nil || u.Hostname() == "" {
				t.Fatalf("%s: REDIS_URL %q has no host", role, env["REDIS_URL"])
			}
			if u.Hostname() != "redis" {
				t.Errorf("%s: REDIS_URL %q does not point at the redis service", role, env["REDIS_URL"])
			}

			for _, dep := range []struct{ service, condition string }{
				{host, "service_healthy"},
				{u.Hostname(), "service_healthy"},
			} {
				if got, ok := deps[dep.service]; !ok || got != dep.condition {
					t.Errorf("%s must wait for %s with condition %s; depends_on has %v", role, dep.service, dep.condition, deps)
				}
				if d, ok := c.Services[dep.service]; ok && (d.Healthcheck == nil || d.Healthcheck.Disable) {
					t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", role, dep.service, dep.service)
				}
			}
			// The namespace must exist before the roles use it.
			for name, svc := range c.Services {
				if strings.Contains(script(t, svc), "namespace create") && name != host {
					if got := deps[name]; got != "service_completed_successfully" {
						t.Errorf("%s must wait for %s (creates the namespace) with condition service_completed_successfully; got %q", role, name, got)
					}
				}
			}
		})
	}
}

func TestComposeTemporalSetup(t *testing.T) {
	c := loadCompose(t)
	schema := mustService(t, c, "temporal-schema")
	server := mustService(t, c, "temporal")

	t.Run("schema before server", func(t *testing.T) {
		if !strings.HasPrefix(schema.Image, "temporalio/admin-tools:") {
			t.Errorf("temporal-schema runs %q, want Temporal's temporalio/admin-tools image", schema.Image)
		}
		s := script(t, schema)
		for _, want := range []string{"temporal-sql-tool", "postgres12", "setup-schema", "update-schema", "temporal_visibility", "visibility/versioned"} {
			if !strings.Contains(s, want) {
				t.Errorf("temporal-schema's script does not mention %q; it must set up both the temporal and the visibility schema", want)
			}
		}
		if got := dependsOn(t, schema)["postgresql"]; got != "service_healthy" {
			t.Errorf("temporal-schema must wait for postgresql to be healthy; condition is %q", got)
		}
		if got := dependsOn(t, server)["temporal-schema"]; got != "service_completed_successfully" {
			t.Errorf("temporal must wait for temporal-schema with service_completed_successfully; condition is %q", got)
		}
	})

	t.Run("server on postgresql", func(t *testing.T) {
		env := environment(t, server)
		if env["DB"] != "postgres12" || env["POSTGRES_SEEDS"] != "postgresql" {
			t.Errorf("temporal must use the postgresql service (DB=postgres12, POSTGRES_SEEDS=postgresql); has DB=%q POSTGRES_SEEDS=%q", env["DB"], env["POSTGRES_SEEDS"])
		}
		if server.Healthcheck == nil || server.Healthcheck.Disable {
			t.Error("temporal has no healthcheck")
		}
		if path := env["DYNAMIC_CONFIG_FILE_PATH"]; path != "" {
			mounted := false
			for _, cfg := range server.Configs {
				if m, ok := cfg.(map[string]any); ok && m["target"] == path {
					_, mounted = c.Configs[fmt.Sprint(m["source"])]
				}
			}
			for _, v := range server.Volumes {
				if s, ok := v.(string); ok && strings.HasPrefix(path, strings.Split(s+":", ":")[1]) {
					mounted = true
				}
			}
			if !mounted {
				t.Errorf("temporal reads dynamic config from %s, but no config or volume provides it", path)
			}
		}
	})

	t.Run("namespace and search attributes", func(t *testing.T) {
		var setup string
		for _, svc := range c.Services {
			if s := script(t, svc); strings.Contains(s, "namespace create") {
				setup += s
				for k, v := range environment(t, svc) {
					setup += " " + k + "=" + v
				}
			}
		}
		if setup == "" {
			t.Fatal("no service creates the namespace (temporal operator namespace create)")
		}
		if !regexp.MustCompile(`\bozgflow\b`).MatchString(setup) {
			t.Error("the namespace setup (script and environment) does not name the namespace ozgflow")
		}
		for name, typ := range searchAttributes {
			if !regexp.MustCompile(`\b` + name + `\b\s+` + typ + `\b`).MatchString(setup) {
				t.Errorf("the namespace setup does not register search attribute %s of type %s", name, typ)
			}
		}
	})
}

func TestComposeImagesArePinned(t *testing.T) {
	c := loadCompose(t)
	version := map[string]string{}
	for _, name := range serviceNames(c) {
		s := c.Services[name]
		if _, _, ok := build(t, s); ok {
			continue
		}
		repo, tag, ok := strings.Cut(s.Image, ":")
		version[repo] = tag
		t.Run(name, func(t *testing.T) {
			if !ok || tag == "" || tag == "latest" {
				t.Errorf("%s uses image %q without a pinned tag", name, s.Image)
			}
		})
	}
	server, tools := version["temporalio/server"], version["temporalio/admin-tools"]
	if server == "" || !strings.HasPrefix(tools, server) {
		t.Errorf("temporalio/admin-tools (%s) must match the temporalio/server version (%s): the schema must be the server's", tools, server)
	}
	if minor := regexp.MustCompile(`^1\.(\d+)\.`).FindStringSubmatch(server); minor == nil {
		t.Errorf("temporalio/server tag %q is not a 1.x.y release", server)
	} else if n, _ := strconv.Atoi(minor[1]); n < 29 {
		t.Errorf("temporalio/server %s is older than 1.29", server)
	}
	if !strings.HasPrefix(version["temporalio/ui"], "2.") {
		t.Errorf("temporalio/ui tag %q, want a 2.x release", version["temporalio/ui"])
	}
}

// optionalSecrets may stay unset, and say why: no value opens no door.
var optionalSecrets = map[string]string{
	"OZGFLOW_SMTP_PASSWORD":    "SMTP AUTH happens only with OZGFLOW_SMTP_USERNAME",
	"OZGFLOW_PREVIOUS_SECRETS": "needed only while tokens of a former OZGFLOW_SECRET are to stay valid",
}

// TestComposeRequiresEverySecret checks that no secret has a default: each
// is ${VAR:?message}, which stops `docker compose` until VAR is set and
// says how to make a value, or, for the optional ones, ${VAR:-}.
func TestComposeRequiresEverySecret(t *testing.T) {
	c := loadCompose(t)
	secret := regexp.MustCompile(`SECRET|API_KEY|PASSWORD|_PWD$`)
	required := regexp.MustCompile(`^\$\{([A-Z0-9_]+):\?([^}]*)\}$`)
	optional := regexp.MustCompile(`^\$\{([A-Z0-9_]+):-\}$`)
	for _, name := range serviceNames(c) {
		for key, val := range environment(t, c.Services[name]) {
			if !secret.MatchString(key) {
				continue
			}
			t.Run(name+"/"+key, func(t *testing.T) {
				if m := required.FindStringSubmatch(val); m != nil {
					if !strings.Contains(m[2], m[1]) || !strings.Contains(m[2], "openssl rand -hex 32") {
						t.Errorf("%s: %s stops compose with %q; say which variable to set and how: openssl rand -hex 32", name, key, m[2])
					}
					return
				}
				if m := optional.FindStringSubmatch(val); m != nil && optionalSecrets[m[1]] != "" {
					return
				}
				t.Errorf("%s: %s is %q; a secret must be required as ${VAR:?set VAR, e.g. openssl rand -hex 32}, without a default", name, key, val)
			})
		}
	}
	// Nowhere, extension blocks included, does a secret get a default.
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$\{[A-Z0-9_]*(SECRET|API_KEY|PASSWORD|PWD)[A-Z0-9_]*:?-[^}]+\}`).FindAllString(string(b), -1) {
		t.Errorf("docker-compose.yml gives a secret a default: %s", m)
	}
}

// dockerfileStage is one FROM stage of the Dockerfile with its instructions.
type dockerfileStage struct {
	from         string
	instructions []string // "RUN go build ...", continuation lines joined
}

func loadDockerfile(t *testing.T) []dockerfileStage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatalf("read Dockerfile: %v", err)
	}
	var stages []dockerfileStage
	var cur strings.Builder
	flush := func() {
		ins := strings.Join(strings.Fields(cur.String()), " ")
		cur.Reset()
		if ins == "" {
			return
		}
		keyword, rest, _ := strings.Cut(ins, " ")
		if strings.EqualFold(keyword, "FROM") {
			stages = append(stages, dockerfileStage{from: rest})
			return
		}
		if len(stages) == 0 {
			if strings.EqualFold(keyword, "ARG") {
				return
			}
			t.Fatalf("Dockerfile: %q before the first FROM", ins)
		}
		last := &stages[len(stages)-1]
		last.instructions = append(last.instructions, strings.ToUpper(keyword)+" "+rest)
	}
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

func (s dockerfileStage) find(keyword string) []string {
	var out []string
	for _, ins := range s.instructions {
		if strings.HasPrefix(ins, keyword+" ") {
			out = append(out, strings.TrimPrefix(ins, keyword+" "))
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	stages := loadDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d FROM stage(s), want a build stage and a runtime stage", len(stages))
	}
	final := stages[len(stages)-1]

	buildIndex := -1
	for i, s := range stages[:len(stages)-1] {
		for _, run := range s.find("RUN") {
			if strings.Contains(run, "go build") && strings.Contains(run, "./cmd/ozgflow") {
				buildIndex = i
			}
		}
	}

	for _, tc := range []struct {
		name  string
		check func() string // what is wrong, or ""
	}{
		{"builds ./cmd/ozgflow", func() string {
			if buildIndex < 0 {
				return "no stage before the runtime stage runs `go build ... ./cmd/ozgflow`"
			}
			return ""
		}},
		{"golang 1.26 build image", func() string {
			if buildIndex >= 0 && !strings.HasPrefix(stages[buildIndex].from, "golang:1.26") {
				return fmt.Sprintf("the build stage is FROM %q, want golang:1.26 (go.mod's go line)", stages[buildIndex].from)
			}
			return ""
		}},
		{"static binary", func() string {
			if buildIndex < 0 {
				return ""
			}
			for _, ins := range stages[buildIndex].instructions {
				if strings.Contains(ins, "CGO_ENABLED=0") {
					return ""
				}
			}
			return "the build stage does not set CGO_ENABLED=0; the distroless static image has no libc"
		}},
		{"module download before sources", func() string {
			if buildIndex < 0 {
				return ""
			}
			download, sources := -1, -1
			for i, ins := range stages[buildIndex].instructions {
				if download < 0 && strings.HasPrefix(ins, "RUN ") && strings.Contains(ins, "go mod download") {
					download = i
				}
				if sources < 0 && (ins == "COPY . ." || strings.HasPrefix(ins, "COPY . ")) {
					sources = i
				}
			}
			if download < 0 || sources < 0 || download > sources {
				return "the build stage must run `go mod download` after copying go.mod and go.sum and before `COPY . .`, so the module layer stays cached"
			}
			return ""
		}},
		{"runs as non-root", func() string {
			users := final.find("USER")
			if len(users) > 0 {
				user := strings.Split(users[len(users)-1], ":")[0]
				if user == "root" || user == "0" {
					return fmt.Sprintf("the runtime stage runs as USER %s", users[len(users)-1])
				}
				return ""
			}
			if strings.HasSuffix(strings.Fields(final.from)[0], ":nonroot") {
				return ""
			}
			return fmt.Sprintf("the runtime stage (FROM %s) sets no non-root USER and is not a :nonroot image", final.from)
		}},
		{"entrypoint", func() string {
			eps := final.find("ENTRYPOINT")
			if len(eps) == 0 || strings.ReplaceAll(eps[len(eps)-1], " ", "") != `["/ozgflow"]` {
				return fmt.Sprintf(`the runtime stage's ENTRYPOINT is %q, want ["/ozgflow"]`, eps)
			}
			return ""
		}},
		{"exposes 8080 and 9090", func() string {
			var exposed []string
			for _, e := range final.find("EXPOSE") {
				exposed = append(exposed, strings.Fields(e)...)
			}
			for _, p := range []string{"8080", "9090"} {
				if !slices.Contains(exposed, p) && !slices.Contains(exposed, p+"/tcp") {
					return fmt.Sprintf("the runtime stage does not EXPOSE %s (exposes %v)", p, exposed)
				}
			}
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := tc.check(); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatalf("read .dockerignore: %v", err)
	}
	var patterns []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, strings.TrimSuffix(strings.TrimPrefix(line, "/"), "/"))
		}
	}
	for _, tc := range []struct{ pattern, why string }{
		{".git", "the repository history does not belong in the build context"},
		{"data", "the dev data directory holds a secret and databases"},
		{"*.test", "compiled test binaries"},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			if !slices.Contains(patterns, tc.pattern) {
				t.Errorf(".dockerignore does not exclude %s: %s", tc.pattern, tc.why)
			}
		})
	}
}

// TestComposeLinksLeadToTheGateway: the links handed to applicants (email
// notices, the return from the payment and signing pages, the receipt)
// lead to the gateway's public address, the same for every role.
func TestComposeLinksLeadToTheGateway(t *testing.T) {
	c := loadCompose(t)
	gateway := environment(t, mustService(t, c, "gateway"))["OZGFLOW_PUBLIC_URL"]
	if gateway == "" {
		t.Fatal("the gateway has no OZGFLOW_PUBLIC_URL")
	}
	if got := environment(t, mustService(t, c, "worker"))["OZGFLOW_PUBLIC_URL"]; got != gateway {
		t.Errorf("the worker links email notices and payment returns to %q, want the gateway's %q", got, gateway)
	}
	if got := environment(t, mustService(t, c, "sandbox"))["OZGFLOW_SIGNATURE_RETURN_URL"]; got != gateway {
		t.Errorf("the signing page returns to %q, want the gateway's %q", got, gateway)
	}
}
