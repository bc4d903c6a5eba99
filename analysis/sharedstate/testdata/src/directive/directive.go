// Package directive checks //hatagovet:ignore.
package directive

import "net/http"

type D struct{ n, m, k, j int }

func (d *D) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.n++ //hatagovet:ignore only the test server calls this, from one goroutine

	//hatagovet:ignore approximate counter, races accepted
	d.m++

	//hatagovet:ignore // want `^//hatagovet:ignore needs a reason: say why this write is safe, as in //hatagovet:ignore <reason>$`
	d.k++ // want `writes field k of its receiver`

	//hatagovet:ignroe typo // want `^unknown directive //hatagovet:ignroe: the only one is //hatagovet:ignore <reason>$`
	d.j++ // want `writes field j of its receiver`
}
