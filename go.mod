module github.com/ferryvm/ferry

go 1.26
