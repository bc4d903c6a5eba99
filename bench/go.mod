module github.com/hatago/hatago/bench

go 1.26.0

require github.com/hatago/hatago v0.0.0

replace github.com/hatago/hatago => ../
