package wasi

import (
	"slices"
	"testing"
)

func TestConfigWithReturnsCopies(t *testing.T) {
	base := NewConfig().WithArgs("prog", "a").WithEnv("K", "1").WithEnv("L", "2")
	derived := base.WithEnv("K", "3").WithArgs("other").WithTCPListen(":0")
	if !slices.Equal(base.env, []string{"K=1", "L=2"}) || !slices.Equal(base.args, []string{"prog", "a"}) || len(base.tcpListen) != 0 {
		t.Errorf("base changed: %+v", base)
	}
	if !slices.Equal(derived.env, []string{"L=2", "K=3"}) || !slices.Equal(derived.args, []string{"other"}) {
		t.Errorf("derived: %+v", derived)
	}
	args := []string{"x"}
	c := NewConfig().WithArgs(args...)
	args[0] = "mutated"
	if c.args[0] != "x" {
		t.Error("WithArgs aliases the caller's slice")
	}
}
