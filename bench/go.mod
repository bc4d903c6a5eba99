module github.com/hatago/hatago/bench

go 1.25

require github.com/hatago/hatago v0.0.0

replace github.com/hatago/hatago => ../
