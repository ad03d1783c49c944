package realtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tradewithai/realtime/internal/socketio"
)

// mainNamespace is the Socket.IO namespace clients connect to by default.
const mainNamespace = "/"

// Gateway serves realtime events to socket.io-client 4.x clients. It is an
// http.Handler: mount it on the host's mux at its path ("/socket.io/" by
// default) and publish to it from anywhere in the process. All methods are
// safe for concurrent use.
type Gateway struct {
	cfg   *config
	sio   *socketio.Server
	rooms roomRegistry

	ctx    context.Context // canceled by Shutdown
	cancel context.CancelFunc
	closed atomic.Bool
	done   chan struct{} // closed when the ticker goroutine returns

	clientsMu sync.RWMutex
	clients   map[string]*Client // by id: a client's id also addresses it as a room, as in Socket.IO

	handlersMu sync.RWMutex
	handlers   map[string]HandlerFunc

	countDirty     atomic.Bool
	counters       counters
	userRoomPrefix string // what every user room starts with
}

// New returns a Gateway configured by opts. It fails (with an error
// wrapping ErrInvalidOption) on an invalid option, or when no authenticator
// is set and development mode is off.
func New(opts ...Option) (*Gateway, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt == nil {
			return nil, invalid("nil option")
		}
		if err := opt(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.authenticator == nil && !cfg.developmentMode {
		return nil, invalid("no authenticator: use WithAuthenticator (or WithDevelopmentMode for local development)")
	}
	if cfg.developmentMode {
		cfg.authenticator = developmentAuthenticator(cfg.authenticator)
		cfg.logger.Warn("realtime: development mode is on: clients without a token connect as " + DevelopmentUserID + "; never enable it in production")
	}

	// A subscription must never be able to name another user's room: the
	// rooms of channels that take symbols must not share the user rooms'
	// prefix.
	userPrefix := cfg.naming.User("")
	if userPrefix == "" {
		return nil, invalid("room naming: User(\"\") must return the prefix of every user room")
	}
	for _, ch := range cfg.channels {
		if strings.HasPrefix(ch.Name, userPrefix) || (ch.Symbols && strings.HasPrefix(cfg.naming.Symbol(ch.Name, ""), userPrefix)) {
			return nil, invalid("room naming: channel %q would name rooms like the user rooms (%q...)", ch.Name, userPrefix)
		}
	}
	g := &Gateway{
		userRoomPrefix: userPrefix,
		cfg:            cfg,
		clients:        make(map[string]*Client),
		handlers:       make(map[string]HandlerFunc),
		done:           make(chan struct{}),
	}
	g.counters.refused = make(map[string]*atomic.Uint64)
	cfg.engine.Logger = cfg.logger
	if cfg.handshakes != nil {
		cfg.engine.AllowRequest = g.allowRequest
	}
	sio, err := socketio.NewServer(socketio.Config{
		Engine:         cfg.engine,
		ConnectTimeout: cfg.connectTimeout,
		Logger:         cfg.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	if _, err := sio.Handle(mainNamespace, namespaceHandler{g}); err != nil {
		return nil, err
	}
	g.sio = sio
	g.ctx, g.cancel = context.WithCancel(context.Background())
	if cfg.adapter != nil {
		if err := cfg.adapter.Start(g.ctx, localInstance{g}); err != nil {
			g.cancel()
			return nil, fmt.Errorf("realtime: starting the adapter: %w", err)
		}
	}
	go g.runTicker()
	return g, nil
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.sio.ServeHTTP(w, r)
}

// Path returns the URL path the gateway answers on.
func (g *Gateway) Path() string { return g.sio.Engine().Config().Path }

// SendToUser sends an event to every connection of a user (the room
// user:<userID>), on every instance.
func (g *Gateway) SendToUser(userID, event string, data any) error {
	return g.BroadcastToRoom(g.cfg.naming.User(userID), event, data)
}

// BroadcastToRoom sends an event to every client in a room, on every
// instance. The event is encoded once, whatever the number of recipients,
// and queued on each client without waiting for the network.
func (g *Gateway) BroadcastToRoom(room, event string, data any) error {
	return g.Emit(g.ctx, Selector{Rooms: []string{room}}, event, data)
}

// BroadcastToSymbol sends an update about one symbol of a channel that
// takes symbols: it reaches the subscribers of the whole channel and of
// that symbol's room, each client once. BroadcastToSymbol("market-data",
// "BTC/USD", "ticker:update", tick) reaches rooms "market-data" and
// "market-data:BTC/USD".
//
// Under SlowConsumerConflate, a client that falls behind keeps only the
// newest queued update of each event and symbol.
func (g *Gateway) BroadcastToSymbol(channel, symbol, event string, data any) error {
	sel := Selector{Rooms: []string{channel, g.cfg.naming.Symbol(channel, symbol)}}
	return g.emit(g.ctx, sel, event, data, conflationKey(event, channel, symbol))
}

// Emit sends an event to the clients sel picks, on every instance: each
// selected client receives it once, even when it is in several of the
// rooms. An empty Selector picks every client. SendToUser,
// BroadcastToRoom and BroadcastToSymbol are shorthands for it.
func (g *Gateway) Emit(ctx context.Context, sel Selector, event string, data any) error {
	return g.emit(ctx, sel, event, data, 0)
}

// ConnectedClients returns the number of clients connected to this
// instance.
func (g *Gateway) ConnectedClients() int {
	g.clientsMu.RLock()
	defer g.clientsMu.RUnlock()
	return len(g.clients)
}

// RoomSize returns the number of this instance's clients in a room.
func (g *Gateway) RoomSize(room string) int { return g.rooms.size(room) }

// Shutdown stops accepting connections and closes the existing ones without
// a Socket.IO disconnect, so that socket.io-client reconnects by itself
// (to another instance behind the load balancer). Messages already queued
// are written first. It returns when every connection and goroutine of the
// gateway is gone, or when ctx ends.
func (g *Gateway) Shutdown(ctx context.Context) error {
	if !g.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	g.cancel()
	<-g.done
	err := g.sio.Shutdown(ctx)
	if g.cfg.adapter != nil {
		err = errors.Join(err, g.cfg.adapter.Close())
	}
	return err
}

func (g *Gateway) addClient(c *Client) {
	g.clientsMu.Lock()
	g.clients[c.ID()] = c
	g.clientsMu.Unlock()
	g.countDirty.Store(true)
}

func (g *Gateway) removeClient(c *Client) {
	g.clientsMu.Lock()
	if g.clients[c.ID()] == c {
		delete(g.clients, c.ID())
	}
	g.clientsMu.Unlock()
	g.countDirty.Store(true)
}

func (g *Gateway) clientByID(id string) *Client {
	g.clientsMu.RLock()
	defer g.clientsMu.RUnlock()
	return g.clients[id]
}
