package uploads

import (
	"errors"
	"time"
)

// Config configures file uploads (the `uploads` section); the zero value
// refuses multipart requests with 415, as before uploads existed.
type Config struct {
	// Enabled accepts multipart/form-data requests of the GraphQL
	// multipart request spec. CSRF prevention applies: a multipart request
	// needs one of auth.csrf.required_headers.
	Enabled bool `yaml:"enabled"`
	// MaxFileBytes caps one file (413 past it).
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	// MaxFiles caps the files (map entries) of one request (413 past it).
	MaxFiles int `yaml:"max_files"`
	// MaxTotalBytes caps all files of one request together, which also
	// bounds what is spooled to disk for it (413 past it).
	MaxTotalBytes int64 `yaml:"max_total_bytes"`
	// Timeout bounds the time the whole multipart body may take, counted
	// from the start of the request (408 past it).
	Timeout time.Duration `yaml:"timeout"`
	// IdleTimeout bounds a stall: the client must send some bytes this
	// often while its body is read (408 past it); 0 takes
	// server.read_timeout.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// SpoolDir is where files that arrive before they are needed wait,
	// in unlinked temporary files; empty is the system's temporary
	// directory.
	SpoolDir string `yaml:"spool_dir"`
	// MaxSpoolBytes caps the bytes spooled by all requests of the
	// process together (MaxTotalBytes caps one request's); a request
	// whose spool would go past it gets 503 UPLOAD_SPOOL_FULL. 0 is no
	// process-wide cap.
	MaxSpoolBytes int64 `yaml:"max_spool_bytes"`
}

// DefaultConfig is off, with the limits used when it is turned on.
func DefaultConfig() Config {
	return Config{MaxFileBytes: 10 << 20, MaxFiles: 5, MaxTotalBytes: 50 << 20, Timeout: 5 * time.Minute,
		MaxSpoolBytes: 256 << 20}
}

// Validate reports limits that can not work.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	switch {
	case c.MaxFileBytes <= 0:
		return errors.New("max_file_bytes: must be positive")
	case c.MaxFiles <= 0:
		return errors.New("max_files: must be positive")
	case c.MaxTotalBytes <= 0:
		return errors.New("max_total_bytes: must be positive")
	case c.Timeout <= 0:
		return errors.New("timeout: must be positive")
	case c.IdleTimeout < 0:
		return errors.New("idle_timeout: must not be negative")
	case c.MaxSpoolBytes < 0:
		return errors.New("max_spool_bytes: must not be negative (0 is no process-wide cap)")
	}
	return nil
}
