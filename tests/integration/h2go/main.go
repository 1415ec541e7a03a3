// h2go calls `zoneproof serve` the way kube-apiserver's aggregator does: Go's net/http client
// with the front-proxy client certificate, HTTP/2 when the server offers it in ALPN, every
// concurrent call on the transport's pooled connections. test_http2.py builds and runs it.
//
//	h2go -url https://localhost:PORT -ca CA -cert CRT -key KEY -path RESOURCE BODY...
//
// A GET /apis first, then every BODY (a ChallengePayload) POSTed at once, each from its own
// goroutine. Prints one JSON object: each answer's status, protocol and body, and how many
// distinct connections carried them.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"sync"
	"time"
)

type result struct {
	Status int    `json:"status"`
	Proto  string `json:"proto"`
	Body   string `json:"body"`
	Err    string `json:"error,omitempty"`
}

func client(ca, cert, key string) (*http.Client, error) {
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(ca)
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cannot read the CA %s: %v", ca, err)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, err
	}
	// As client-go's transport: TLS with the client certificate, HTTP/2 attempted.
	t := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 25,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: t, Timeout: 60 * time.Second}, nil
}

func main() {
	url := flag.String("url", "", "https://host:port")
	ca := flag.String("ca", "", "the serving CA")
	cert := flag.String("cert", "", "the front-proxy client certificate")
	key := flag.String("key", "", "its key")
	path := flag.String("path", "", "the solver resource")
	flag.Parse()
	c, err := client(*ca, *cert, *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	conns := map[string]bool{}
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		mu.Lock()
		conns[i.Conn.LocalAddr().String()] = true
		mu.Unlock()
	}}
	do := func(method, p string, body []byte) result {
		req, _ := http.NewRequest(method, *url+p, bytes.NewReader(body))
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		req.Header.Set("X-Remote-User", "system:serviceaccount:cert-manager:cert-manager")
		req.Header.Set("X-Remote-Group", "system:serviceaccounts")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.Do(req)
		if err != nil {
			return result{Err: err.Error()}
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return result{Status: resp.StatusCode, Proto: resp.Proto, Body: string(b)}
	}
	out := map[string]interface{}{"apis": do("GET", "/apis", nil)}
	results := make([]result, flag.NArg())
	var wg sync.WaitGroup
	for i, b := range flag.Args() {
		wg.Add(1)
		go func(i int, b string) {
			defer wg.Done()
			results[i] = do("POST", *path, []byte(b))
		}(i, b)
	}
	wg.Wait()
	out["posts"] = results
	out["connections"] = len(conns)
	json.NewEncoder(os.Stdout).Encode(out)
}
