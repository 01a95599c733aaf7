module github.com/ecp-ai/orchestrator-client-go

go 1.19

require github.com/gorilla/websocket v1.5.0

// No module proxy is reachable on the project's machines: Debian's golang-github-gorilla-websocket-dev
// (1.5.0) provides the source. A replace line only applies to this module's own builds and tests;
// a program that imports this module resolves github.com/gorilla/websocket v1.5.0 as usual.
replace github.com/gorilla/websocket => /usr/share/gocode/src/github.com/gorilla/websocket
