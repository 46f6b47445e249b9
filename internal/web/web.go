// Package web is Wolfpack's web console: a Failover Cluster Manager in the browser,
// served by every wolfpackd at / on its API address. Its files (static/) are plain
// HTML, CSS and JavaScript embedded in the binary; nothing is fetched from elsewhere at
// run time, and nothing is built: `go run ./cmd/wolfpackd` serves it as it is.
//
// The files hold no cluster data and are served without a token (api.AccessAsset);
// everything the console shows comes from the token-checked API routes. The browser
// keeps the API token in the tab's sessionStorage (or only in memory, when the user
// asks) and sends it in the Authorization header of each request, the live stream
// (/v1/cluster/watch, read with fetch) included: the token is never in a URL, and no
// cookie carries it, so another site cannot make the browser send it (no CSRF). The
// Content-Security-Policy allows scripts and styles from the node alone, and the
// script writes data into the page as text, never as markup.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"

	"wolfpack/internal/api"
)

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every console file: scripts, styles and
// connections to this node only; no inline script; no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// asset is one embedded file with its validator.
type asset struct {
	name string
	data []byte
	etag string
	typ  string
}

// Files lists the console's files by the path they are served at ("/" for the page).
func Files() map[string][]byte {
	out := map[string][]byte{}
	for p, a := range assets() {
		out[p] = a.data
	}
	return out
}

func assets() map[string]asset {
	out := map[string]asset{}
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	for _, e := range entries {
		b, err := fs.ReadFile(static, "static/"+e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		a := asset{name: e.Name(), data: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`,
			typ: mime.TypeByExtension(path.Ext(e.Name()))}
		switch path.Ext(e.Name()) {
		case ".js":
			a.typ = "text/javascript; charset=utf-8"
		case ".svg":
			a.typ = "image/svg+xml"
		}
		if e.Name() == "index.html" {
			out["/"] = a
			continue
		}
		out["/ui/"+e.Name()] = a
	}
	return out
}

// Register serves the console on s: the page at / and its files under /ui/.
func Register(s *api.Server) {
	files := assets()
	serve := func(a asset) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", a.typ)
			h.Set("Content-Security-Policy", CSP)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			// Revalidated on each load (cheap: 304 by the ETag), so a node that runs a
			// newer binary never serves a stale script.
			h.Set("Cache-Control", "no-cache")
			h.Set("ETag", a.etag)
			http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.data))
		}
	}
	s.HandleAsset("GET /{$}", serve(files["/"]))
	s.HandleAsset("GET /ui/{file}", func(w http.ResponseWriter, r *http.Request) {
		a, ok := files["/ui/"+r.PathValue("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(a)(w, r)
	})
}
