module github.com/hatago/hatago

go 1.25
