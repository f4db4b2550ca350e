package process

import (
	"errors"
	"slices"
	"testing"
)

func TestClosersStopInReverseOrderOfStart(t *testing.T) {
	var stopped []string
	var stops closers
	stops.addFunc(func() { stopped = append(stopped, "temporal") })
	stops.add(func() error { stopped = append(stopped, "redis"); return errors.New("redis: already closed") })
	stops.addFunc(func() { stopped = append(stopped, "worker") })
	err := stops.closeAll()
	if got, want := stopped, []string{"worker", "redis", "temporal"}; !slices.Equal(got, want) {
		t.Errorf("stopped %v, want %v", got, want)
	}
	if err == nil || err.Error() != "redis: already closed" {
		t.Errorf("err = %v, want the error of redis", err)
	}
	if err := stops.closeAll(); err != nil || len(stopped) != 3 {
		t.Errorf("second close: %v, stopped %v; want nothing stopped twice", err, stopped)
	}
}
