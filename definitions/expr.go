package definitions

import (
	"encoding/json"
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// ConditionEnv is what a condition sees: the application data, the variant's
// variables and the outcome decided so far ("" while undecided).
type ConditionEnv struct {
	Data    map[string]any
	Vars    map[string]any
	Outcome string
	Paid    bool
}

func (e ConditionEnv) asMap() map[string]any {
	return map[string]any{"data": e.Data, "vars": e.Vars, "outcome": e.Outcome, "paid": e.Paid}
}

// CompileCondition checks that a condition is a boolean expr-lang expression
// over data, vars, outcome and paid.
func CompileCondition(src string) (*vm.Program, error) {
	env := ConditionEnv{Data: map[string]any{}, Vars: map[string]any{}}.asMap()
	p, err := expr.Compile(src, expr.Env(env), expr.AsBool())
	if err != nil {
		return nil, fmt.Errorf("condition %q: %w", src, err)
	}
	return p, nil
}

// conditions are the conditions compiled so far.
var conditions = memo[string, *vm.Program]{limit: 4096}

// EvalCondition evaluates a condition. It is deterministic: the same source and
// environment always give the same answer, so workflows may call it.
func EvalCondition(src string, env ConditionEnv) (bool, error) {
	p, err := conditions.get(src, func() (*vm.Program, error) { return CompileCondition(src) })
	if err != nil {
		return false, err
	}
	out, err := expr.Run(p, env.asMap())
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", src, err)
	}
	b, _ := out.(bool)
	return b, nil
}

// DataMap decodes application data for conditions; anything that is not a
// JSON object gives an empty map.
func DataMap(data []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return map[string]any{}
	}
	return m
}

// dataPaths lists the paths into the application data a condition reads,
// such as ["betrieb", "rechtsform"] for data.betrieb.rechtsform.
func dataPaths(src string) ([][]string, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, err
	}
	v := &pathCollector{}
	ast.Walk(&tree.Node, v)
	return v.paths, nil
}

// pathCollector gathers the member chains that start at the identifier data.
type pathCollector struct{ paths [][]string }

// Visit implements ast.Visitor. Walk visits children first, so the longest
// chain is seen last; shorter prefixes of it are dropped.
func (p *pathCollector) Visit(node *ast.Node) {
	path, ok := memberPath(*node)
	if !ok || len(path) == 0 {
		return
	}
	kept := p.paths[:0]
	for _, existing := range p.paths {
		if !isPrefix(existing, path) {
			kept = append(kept, existing)
		}
	}
	p.paths = append(kept, path)
}

// memberPath reads data.a.b (or data["a"].b) into ["a", "b"].
func memberPath(n ast.Node) ([]string, bool) {
	m, ok := n.(*ast.MemberNode)
	if !ok {
		return nil, false
	}
	prop, ok := m.Property.(*ast.StringNode)
	if !ok {
		return nil, false
	}
	if id, ok := m.Node.(*ast.IdentifierNode); ok {
		return []string{prop.Value}, id.Value == "data"
	}
	parent, ok := memberPath(m.Node)
	if !ok {
		return nil, false
	}
	return append(parent, prop.Value), true
}

func isPrefix(short, long []string) bool {
	if len(short) > len(long) {
		return false
	}
	for i := range short {
		if short[i] != long[i] {
			return false
		}
	}
	return true
}
