//go:build !linux

package ferry

import (
	"errors"
	"os"
)

var errNoUnnamedFiles = errors.New("unnamed temporary files are a Linux feature")

func openUnnamed(string) (*os.File, error) { return nil, errNoUnnamedFiles }

func linkUnnamed(*os.File, string) error { return errNoUnnamedFiles }
