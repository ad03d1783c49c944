package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime/internal/redistest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestServerLifecycle(t *testing.T) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	defer c.Close()
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return c.Ping(ctx).Err()
	}
	if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET on a started server: %v", err)
	}
	srv.Kill()
	if err := ping(); err == nil {
		t.Fatal("PING succeeded after Kill")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	if v, err := c.Get(t.Context(), "k").Result(); err != redis.Nil {
		t.Errorf("GET after Restart = %q, %v; want an empty server", v, err)
	}
	srv.Stop()
	srv.Stop() // stopping twice is harmless
	if got, want := srv.URL(), "redis://"+srv.Addr()+"/0"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
}
