package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tradewithai/realtime"
)

type llmChunk struct {
	RequestID string `json:"requestId"`
	Chunk     string `json:"chunk"`
	Done      bool   `json:"done"`
	Timestamp string `json:"timestamp"`
}

type promptAccepted struct {
	RequestID string `json:"requestId"`
	Accepted  bool   `json:"accepted"`
}

const maxPromptLen = 2000

// llmPrompt answers `llm:prompt` {prompt}: the ack carries a request id at
// once, and the answer streams token by token as `llm:stream` events to the
// user's room, as a model behind the service would.
func llmPrompt(gw *realtime.Gateway) realtime.HandlerFunc {
	var requests atomic.Uint64
	return func(ctx context.Context, req *realtime.Request) (any, error) {
		var in struct {
			Prompt string `json:"prompt"`
		}
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		in.Prompt = strings.TrimSpace(in.Prompt)
		if in.Prompt == "" || utf8.RuneCountInString(in.Prompt) > maxPromptLen {
			return nil, realtime.NewError("INVALID_PROMPT", fmt.Sprintf("prompt must be 1 to %d characters", maxPromptLen))
		}
		id := fmt.Sprintf("llm-%d", requests.Add(1))
		user := req.Client.UserID()
		go stream(ctx, gw, user, id, answer(in.Prompt))
		return promptAccepted{RequestID: id, Accepted: true}, nil
	}
}

// stream sends the answer a word at a time; it stops when the prompting
// client disconnects.
func stream(ctx context.Context, gw *realtime.Gateway, user, id, text string) {
	t := time.NewTicker(45 * time.Millisecond)
	defer t.Stop()
	words := strings.SplitAfter(text, " ")
	for _, w := range words {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			_ = gw.SendToUser(user, "llm:stream", llmChunk{RequestID: id, Chunk: w, Timestamp: realtime.Timestamp(now)})
		}
	}
	_ = gw.SendToUser(user, "llm:stream", llmChunk{RequestID: id, Done: true, Timestamp: realtime.Timestamp(time.Now())})
}

func answer(prompt string) string {
	short := prompt
	if len(short) > 80 {
		short = short[:80] + "…"
	}
	return fmt.Sprintf("You asked: %q. BTC/USD is trading in a tight range with bids stacked below the mid; "+
		"momentum on the 1-minute chart is neutral. ETH/USD follows BTC with a slightly wider spread, and SOL/USD "+
		"shows the highest relative volume of the three. This is simulated analysis from the demo exchange, "+
		"streamed token by token over the gateway; it is not investment advice.", short)
}
