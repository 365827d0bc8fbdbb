package uploads

import (
	"io"
	"sync"
)

// open returns a reader of f's content and a done func to call once the
// reader is no longer used. f comes from its spool when it was read
// already, otherwise from the client's body: the files before it are
// spooled when a fetch still needs them, else dropped. While a reader of
// the body is open, other files wait (done releases the body).
func (u *Upload) open(f *file) (io.Reader, func(), error) {
	u.body.Lock()
	if err := u.Err(); err != nil {
		u.body.Unlock()
		return nil, nil, err
	}
	if f.read {
		u.body.Unlock()
		if f.spool == nil {
			return nil, nil, u.fail(badMap("file %q is sent to more than one subgraph fetch and was not kept", clip(f.name, 64)))
		}
		return f.spool.reader(), func() { f.refs.Add(-1) }, nil
	}
	for {
		g, part, err := u.nextFile()
		if err != nil {
			u.body.Unlock()
			return nil, nil, err
		}
		src := &limited{u: u, f: g, r: part}
		if g != f {
			if err := u.skip(g, src); err != nil {
				u.body.Unlock()
				return nil, nil, err
			}
			continue
		}
		// More fetches need it: keep a copy while it streams.
		var tee *spoolFile
		var r io.Reader = src
		if f.refs.Load() > 1 {
			if tee, err = u.newSpool(); err != nil {
				u.body.Unlock()
				return nil, nil, u.fail(err)
			}
			r = io.TeeReader(src, tee)
		}
		var once sync.Once
		done := func() {
			once.Do(func() {
				// Read the rest of the part (the fetch may have stopped
				// early) so that the limits apply and the copy is whole.
				_, err := io.Copy(io.Discard, r)
				if tee != nil {
					if err == nil {
						f.spool = tee
					} else {
						tee.Close()
					}
				}
				f.refs.Add(-1)
				u.body.Unlock()
			})
		}
		return r, done, nil
	}
}

// nextFile advances the client's body to the next file part.
func (u *Upload) nextFile() (*file, io.Reader, error) {
	p, err := u.mr.NextPart()
	if err == io.EOF {
		return nil, nil, u.fail(malformed("the request ended before all files of its map were sent"))
	}
	if err != nil {
		return nil, nil, u.fail(readError(err))
	}
	g := u.byName[p.FormName()]
	switch {
	case g == nil:
		return nil, nil, u.fail(malformed("part %q is not a file of the map", clip(p.FormName(), 64)))
	case g.read:
		return nil, nil, u.fail(malformed("file %q is sent twice", clip(p.FormName(), 64)))
	}
	g.read = true
	g.filename = p.FileName()
	g.contentType = p.Header.Get("Content-Type")
	return g, p, nil
}

// skip reads past g, keeping it in a spool file when a fetch needs it.
func (u *Upload) skip(g *file, src io.Reader) error {
	if g.refs.Load() <= 0 {
		_, err := io.Copy(io.Discard, src)
		return err
	}
	sp, err := u.newSpool()
	if err != nil {
		return u.fail(err)
	}
	if _, err := io.Copy(sp, src); err != nil {
		sp.Close()
		return err
	}
	g.spool = sp
	return nil
}

// limited counts a file's bytes against the limits, and records the
// first failure.
type limited struct {
	u *Upload
	f *file
	r io.Reader
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if err := l.u.Err(); err != nil {
		return 0, err
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	l.u.total += int64(n)
	switch {
	case l.n > l.u.cfg.MaxFileBytes:
		return 0, l.u.fail(tooLarge(CodeFileTooLarge, "file %q is larger than %d bytes", clip(l.f.name, 64), l.u.cfg.MaxFileBytes))
	case l.u.total > l.u.cfg.MaxTotalBytes:
		return 0, l.u.fail(tooLarge(CodeTooLarge, "the files are larger than %d bytes together", l.u.cfg.MaxTotalBytes))
	case err != nil && err != io.EOF:
		return n, l.u.fail(readError(err))
	}
	return n, err
}
