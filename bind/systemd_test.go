package bind

import (
	"os"
	"strconv"
	"testing"
)

func TestSystemdEnv(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
	}{
		{name: "not activated", env: map[string]string{}},
		{name: "for another process", env: map[string]string{"LISTEN_PID": "1", "LISTEN_FDS": "1"}},
		{name: "no sockets", env: map[string]string{"LISTEN_PID": pid, "LISTEN_FDS": "0"}},
		{name: "bad pid", env: map[string]string{"LISTEN_PID": "x", "LISTEN_FDS": "1"}, wantErr: true},
		{name: "bad count", env: map[string]string{"LISTEN_PID": pid, "LISTEN_FDS": "-1"}, wantErr: true},
		{name: "missing count", env: map[string]string{"LISTEN_PID": pid}, wantErr: true},
		{name: "names mismatch", env: map[string]string{"LISTEN_PID": pid, "LISTEN_FDS": "2", "LISTEN_FDNAMES": "web"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Systemd(func(k string) string { return tt.env[k] }, false)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got %v, %v; want error %v", got, err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("got %v, want no sockets", got)
			}
		})
	}
}

func TestSystemdUnset(t *testing.T) {
	vars := []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"}
	for _, unset := range []bool{false, true} {
		t.Run("unset="+strconv.FormatBool(unset), func(t *testing.T) {
			for _, k := range vars {
				t.Setenv(k, "1") // restored after the test
			}
			if _, err := Systemd(os.Getenv, unset); err != nil {
				t.Fatal(err)
			}
			for _, k := range vars {
				if _, set := os.LookupEnv(k); set == unset {
					t.Errorf("%s set: got %v, want %v", k, set, !unset)
				}
			}
		})
	}
}
