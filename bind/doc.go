// Package bind turns Puma-style bind URLs, the values of Hatago's
// repeatable -b flag, into listeners.
//
// [Parse] checks a URL without I/O and returns a [Bind]; [Bind.Listen]
// opens it; [ListenAll] opens several, taking sockets inherited from
// systemd ([Systemd]) where they match, and closing what it opened if one
// fails. [File] and [FromFile] move listeners to child processes, as
// cluster mode does with re-executed workers.
//
// # TCP
//
//	tcp://0.0.0.0:8080           all IPv4 interfaces
//	tcp://:8080                  all interfaces, IPv4 and IPv6
//	tcp://[::1]:8080             IPv6 literals go in brackets
//	tcp://127.0.0.1:0            a free port (see the listener's Addr)
//	tcp://:8080?reuseport=true&backlog=1024
//
// Options:
//
//   - reuseport=true sets SO_REUSEPORT (Linux, macOS and the BSDs; an
//     error elsewhere), so several processes can listen on one port and
//     the kernel spreads connections among them.
//   - backlog=N sets the accept queue length. Go listens with the
//     kernel's maximum (net.core.somaxconn on Linux) and the standard
//     library has no knob for it, so Listen calls listen(2) again on the
//     listening socket with N; Linux and the BSDs take that as the new
//     length, still capped at somaxconn. It is an error on other systems.
//
// TCP_NODELAY needs no option: Go sets it on every accepted connection.
//
// # TLS
//
//	ssl://0.0.0.0:8443?cert=/etc/hatago/cert.pem&key=/etc/hatago/key.pem
//	tls://:8443?cert=cert.pem&key=key.pem     tls is an alias of ssl
//
// Puma's form: cert and key are PEM files, required; Parse checks only
// that they are given and Listen loads them. The listener's Accept
// returns *tls.Conn with TLS 1.2 at least and ALPN offering "h2" and
// "http/1.1", so net/http's Server.Serve speaks HTTP/2 on it. ssl takes
// the tcp options too.
//
// # Unix sockets
//
//	unix:///run/hatago/app.sock            an absolute path
//	unix://tmp/app.sock                     a path relative to the working directory
//	unix:///run/hatago/app.sock?mode=0660   chmod the socket file after listening
//	unix://app.sock?umask=0007              the same as mode=0770
//	unix://@hatago                          a Linux abstract socket (no file)
//
// The path is taken as written, up to "?" (no percent-decoding); the
// kernel limits it to about 100 bytes. mode and umask set the socket
// file's permission bits with chmod once it exists: umask=U means mode
// 0777&^U, the bits a socket would get under that umask, without
// changing the process-wide umask. Until the chmod the file has the
// process umask's bits, so keep sockets that need tight permissions in a
// directory that has them.
//
// Before listening, Listen removes a socket file left at the path by a
// server that died, but only if the file is a socket and a connection to
// it is refused. If a server answers, Listen fails with [ErrAddrInUse]; if
// the path is another kind of file, with fs.ErrExist. Closing the
// listener removes the socket file.
//
// # Inherited sockets
//
//	fd://3                                 descriptor 3, already listening
//	fd://3?cert=cert.pem&key=key.pem       TLS on descriptor 3
//	systemd://web                          the socket systemd named "web"
//	systemd://web?cert=cert.pem&key=key.pem
//
// fd://N takes descriptor N, a listening TCP or unix socket the parent
// passed, as exec.Cmd.ExtraFiles does (ExtraFiles[i] becomes descriptor
// 3+i). The listener owns the socket: descriptor N is closed once the
// listener holds its own close-on-exec duplicate, so later children do not
// inherit it. If N is not open, Listen fails with [ErrNotInherited].
//
// systemd://NAME takes the socket that systemd passed with that name
// (FileDescriptorName= in the .socket unit, by default the unit's name;
// LISTEN_FDNAMES in the environment). When several sockets share a name,
// each systemd://NAME bind takes the next one. Only [ListenAll] resolves
// it, from the result of [Systemd].
//
// # Socket activation
//
// [Systemd] reads LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES as
// sd_listen_fds does: the sockets count only if LISTEN_PID is this
// process, and it can unset the variables so children do not misread
// them. Given those sockets, [ListenAll] lets tcp://, ssl:// and unix://
// binds whose address matches an inherited socket use it instead of
// listening anew, as Puma does, so the same -b flags work with and
// without socket activation:
//
//	socks, err := bind.Systemd(os.Getenv, true)
//	...
//	listeners, err := bind.ListenAll(ctx, binds, socks)
//
// # Errors
//
// Parse returns a *[ParseError] naming the URL and the problem, such as
// `bind "tcp://x": missing port`. Listen errors name the bind and wrap
// the cause: [ErrAddrInUse] (with the OS error) when the address is taken,
// [ErrNotInherited] for a missing inherited socket.
package bind
