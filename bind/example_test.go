package bind_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"

	"github.com/hatago/hatago/bind"
)

func ExampleParse() {
	for _, s := range []string{
		"tcp://0.0.0.0:8080",
		"TCP://[0:0::1]:08080?reuseport=1",
		"tls://:8443?key=/etc/hatago/key.pem&cert=/etc/hatago/cert.pem",
		"unix://run/app.sock?umask=0007",
		"fd://3",
		"systemd://web",
		"tcp://localhost",
	} {
		b, err := bind.Parse(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-7s %s\n", b.Scheme, b)
	}
	// Output:
	// tcp     tcp://0.0.0.0:8080
	// tcp     tcp://[::1]:8080?reuseport=true
	// ssl     ssl://:8443?cert=/etc/hatago/cert.pem&key=/etc/hatago/key.pem
	// unix    unix://run/app.sock?mode=0770
	// fd      fd://3
	// systemd systemd://web
	// bind "tcp://localhost": missing port
}

func ExampleBind_Listen() {
	b, err := bind.Parse("tcp://127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	l, err := b.Listen(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	fmt.Println(b.Scheme, l.Addr().Network(), port != "0")
	// Output: tcp tcp true
}

// ExampleListenAll opens the binds of a server, taking the sockets
// systemd passed where they match, so the same bind flags work with and
// without socket activation.
func ExampleListenAll() {
	var binds []bind.Bind
	for _, s := range []string{"tcp://127.0.0.1:0", "tcp://127.0.0.1:0?backlog=128"} {
		b, err := bind.Parse(s)
		if err != nil {
			log.Fatal(err)
		}
		binds = append(binds, b)
	}
	inherited, err := bind.Systemd(os.Getenv, true)
	if err != nil {
		log.Fatal(err)
	}
	ls, err := bind.ListenAll(context.Background(), binds, inherited)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range ls {
		defer l.Close()
	}
	fmt.Println("inherited:", len(inherited), "listening:", len(ls))
	// Output: inherited: 0 listening: 2
}
