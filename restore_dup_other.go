//go:build !unix

package ferry

import (
	"errors"
	"os"
)

// dupFile is not needed where memory is never mapped from a file (memory
// is then copied and verified as it is read).
func dupFile(*os.File) (*os.File, error) {
	return nil, errors.New("ferry: cannot duplicate a file handle on this platform")
}
