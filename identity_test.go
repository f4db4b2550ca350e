package ozgflow

import "testing"

func TestWhoSeesACase(t *testing.T) {
	leipzig := Case{ID: "c1", Authority: "147130000000", Tasks: []Task{{Queue: "gewerbe"}},
		Delivery: &Delivery{Target: "gewerbe-leipzig"}}
	undelivered := Case{ID: "c2", Authority: "147130000000"}
	tests := []struct {
		name string
		id   Identity
		c    Case
		want bool
	}{
		{"its applicant", Identity{Role: RoleApplicant, CaseID: "c1"}, leipzig, true},
		{"another case's applicant", Identity{Role: RoleApplicant, CaseID: "c2"}, leipzig, false},
		{"an administrator", Identity{Role: RoleAdmin}, leipzig, true},
		{"a case worker who also administers, of another authority", Identity{Role: RoleCaseWorker, Authority: "146120000000",
			Roles: []Role{RoleAdmin}}, leipzig, true},
		{"a case worker of the queue", Identity{Role: RoleCaseWorker, Authority: "147130000000", Queues: []string{"gewerbe"}}, leipzig, true},
		{"a case worker outside the queue", Identity{Role: RoleCaseWorker, Authority: "147130000000", Queues: []string{"parken"}}, leipzig, false},
		{"a case worker of another authority", Identity{Role: RoleCaseWorker, Authority: "146120000000"}, leipzig, false},
		{"the back-office system of the authority", Identity{Role: RoleSystem, Authority: "147130000000"}, leipzig, true},
		{"the back-office system of the target", Identity{Role: RoleSystem, Authority: "147130000000", Targets: []string{"gewerbe-leipzig"}}, leipzig, true},
		{"a back-office system of another target", Identity{Role: RoleSystem, Authority: "147130000000", Targets: []string{"parken-leipzig"}}, leipzig, false},
		{"a target's system before delivery", Identity{Role: RoleSystem, Authority: "147130000000", Targets: []string{"gewerbe-leipzig"}}, undelivered, false},
		{"the back-office system of another authority", Identity{Role: RoleSystem, Authority: "146120000000"}, leipzig, false},
		{"the unbound demo system", Identity{Role: RoleSystem}, leipzig, true},
		{"a portal client", Identity{Role: RolePortal}, leipzig, false},
		{"a payment provider", Identity{Role: RoleProvider}, leipzig, false},
		{"nobody", Identity{}, leipzig, false},
	}
	for _, tt := range tests {
		if got := tt.id.Sees(tt.c); got != tt.want {
			t.Errorf("%s sees the case: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestOnlyCaseWorkersOfTheAuthorityWorkCases(t *testing.T) {
	const leipzig = "147130000000"
	for _, tt := range []struct {
		name string
		id   Identity
		want bool
	}{
		{"a case worker of the authority", Identity{Role: RoleCaseWorker, Authority: leipzig}, true},
		{"a case worker of another authority", Identity{Role: RoleCaseWorker, Authority: "146120000000"}, false},
		{"an administrator", Identity{Role: RoleAdmin}, false},
		{"an administrator who is a case worker of the authority", Identity{Role: RoleAdmin, Authority: leipzig, Roles: []Role{RoleCaseWorker}}, true},
		{"a back-office system", Identity{Role: RoleSystem, Authority: leipzig}, false},
	} {
		if got := tt.id.WorksCases(leipzig); got != tt.want {
			t.Errorf("%s works the case: %v, want %v", tt.name, got, tt.want)
		}
	}
}
