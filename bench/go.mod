module github.com/ferryvm/ferry/bench

go 1.26.0

require (
	github.com/bytecodealliance/wasmtime-go/v39 v39.0.1
	github.com/ferryvm/ferry v0.0.0
	github.com/tetratelabs/wazero v1.12.0
)

require (
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/ferryvm/ferry => ../
