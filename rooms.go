package realtime

import "strings"

// Channel names of the reference deployment.
const (
	ChannelTrading    = "trading"
	ChannelMarketData = "market-data"
	ChannelLLM        = "llm"
)

// allRoom holds every connected client; the NUL byte keeps it out of reach
// of client-chosen names.
const allRoom = "\x00all"

// Channel is something clients may subscribe to.
type Channel struct {
	// Name is what clients pass as `channel`, and the name of the room that
	// a subscription without symbols joins.
	Name string
	// Symbols means subscriptions may name symbols; each symbol is a room of
	// its own (RoomNaming.Symbol), and a subscription without symbols joins
	// the channel's room, which receives every symbol's updates.
	Symbols bool
}

func (ch Channel) validate() error {
	if ch.Name == "" || len(ch.Name) > 64 {
		return invalid("channel name %q: want 1 to 64 characters", ch.Name)
	}
	for i := 0; i < len(ch.Name); i++ {
		if !symbolChar(ch.Name[i]) || ch.Name[i] == '/' {
			return invalid("channel name %q: want only [A-Za-z0-9._-]", ch.Name)
		}
	}
	if ch.Name == "user" {
		return invalid(`channel name "user" is reserved for user rooms`)
	}
	return nil
}

// DefaultChannels returns the channels of the reference deployment:
// trading, market-data (one room per symbol) and llm.
func DefaultChannels() []Channel {
	return []Channel{
		{Name: ChannelTrading},
		{Name: ChannelMarketData, Symbols: true},
		{Name: ChannelLLM},
	}
}

// RoomNaming names the rooms the gateway manages.
type RoomNaming struct {
	// User names the private room every connection of a user joins. It must
	// be a fixed prefix followed by the id (User("") is the prefix), and no
	// channel's rooms may start with that prefix: New checks both, so that
	// no subscription can name a user room.
	User func(userID string) string
	// Symbol names the room of one symbol of a channel.
	Symbol func(channel, symbol string) string
}

// isUserRoom reports whether room has the form of a user room: client
// subscriptions may never name one, whoever it belongs to.
func (g *Gateway) isUserRoom(room string) bool {
	return strings.HasPrefix(room, g.userRoomPrefix)
}

// DefaultRoomNaming returns "user:<id>" and "<channel>:<symbol>" (for
// example "market-data:BTC/USD"), as in the reference deployment.
func DefaultRoomNaming() RoomNaming {
	return RoomNaming{
		User:   func(id string) string { return "user:" + id },
		Symbol: func(channel, symbol string) string { return channel + ":" + symbol },
	}
}

const maxSymbolLen = 32

func symbolChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '/' || c == '.' || c == '_' || c == '-'
}

func validSymbol(s string) bool {
	if s == "" || len(s) > maxSymbolLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !symbolChar(s[i]) {
			return false
		}
	}
	return true
}
