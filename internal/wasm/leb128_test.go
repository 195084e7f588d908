package wasm

import (
	"errors"
	"testing"
)

func TestReadLEB(t *testing.T) {
	u32 := []struct {
		in   []byte
		want uint32
		err  error
	}{
		{[]byte{0x00}, 0, nil},
		{[]byte{0xE5, 0x8E, 0x26}, 624485, nil},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, 0xFFFFFFFF, nil},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x00}, 0, nil},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x1F}, 0, ErrLEBTooLarge},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, ErrLEBTooLong},
		{[]byte{0x80}, 0, ErrUnexpectedEnd},
	}
	for _, c := range u32 {
		v, _, err := ReadU32(c.in)
		if !errors.Is(err, c.err) || err == nil && v != c.want {
			t.Errorf("ReadU32(% x) = %d, %v; want %d, %v", c.in, v, err, c.want, c.err)
		}
	}
	s32 := []struct {
		in   []byte
		want int32
		err  error
	}{
		{[]byte{0x7F}, -1, nil},
		{[]byte{0x3F}, 63, nil},
		{[]byte{0x40}, -64, nil},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x78}, -2147483648, nil},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x07}, 2147483647, nil},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, -1, nil},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x70}, 0, ErrLEBTooLarge},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, 0, ErrLEBTooLarge},
	}
	for _, c := range s32 {
		v, _, err := ReadS32(c.in)
		if !errors.Is(err, c.err) || err == nil && v != c.want {
			t.Errorf("ReadS32(% x) = %d, %v; want %d, %v", c.in, v, err, c.want, c.err)
		}
	}
	s64 := []struct {
		in   []byte
		want int64
		err  error
	}{
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F}, -1 << 63, nil},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00}, 1<<63 - 1, nil},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, 0, ErrLEBTooLarge},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7E}, 0, ErrLEBTooLarge},
	}
	for _, c := range s64 {
		v, _, err := ReadS64(c.in)
		if !errors.Is(err, c.err) || err == nil && v != c.want {
			t.Errorf("ReadS64(% x) = %d, %v; want %d, %v", c.in, v, err, c.want, c.err)
		}
	}
}
