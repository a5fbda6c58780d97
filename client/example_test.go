package client_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/tramontane/tramontane/client"
)

// exampleServer starts a Tramontane server with the scripted model for
// the examples, and sets TRAMONTANE_URL and TRAMONTANE_API_KEY to it.
func exampleServer() func() {
	dir, err := os.MkdirTemp("", "tramontane-example-")
	if err != nil {
		log.Fatal(err)
	}
	s, stop, err := startServer(dir)
	if err != nil {
		log.Fatal(err)
	}
	oldURL, oldKey := os.Getenv("TRAMONTANE_URL"), os.Getenv("TRAMONTANE_API_KEY")
	os.Setenv("TRAMONTANE_URL", s.URL)
	os.Setenv("TRAMONTANE_API_KEY", testKey)
	return func() {
		stop()
		os.Setenv("TRAMONTANE_URL", oldURL)
		os.Setenv("TRAMONTANE_API_KEY", oldKey)
		os.RemoveAll(dir)
	}
}

func Example() {
	defer exampleServer()()
	ctx := context.Background()
	c := client.New() // TRAMONTANE_URL, TRAMONTANE_API_KEY or MISTRAL_API_KEY

	agent, err := c.Agents.Create(ctx, client.AgentCreateRequest{
		Model: "mistral-medium-latest", Name: "faq-agent", Instructions: "Be concise.",
	})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.Conversations.Start(ctx, client.ConversationRequest{
		AgentID: agent.ID,
		Inputs:  client.UserMessage("Who won Euro 2024?"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Text())
	// Output: You said: Who won Euro 2024?
}

func ExampleConversationsService_StartStream() {
	defer exampleServer()()
	c := client.New()
	req := client.ConversationRequest{Model: "mistral-medium-latest", Inputs: client.UserMessage("hello")}
	for ev, err := range c.Conversations.StartStream(context.Background(), req) {
		if err != nil {
			log.Fatal(err)
		}
		switch e := ev.(type) {
		case *client.MessageOutputDeltaEvent:
			fmt.Print(e.Text)
		case *client.ResponseDoneEvent:
			fmt.Println()
		}
	}
	// Output: You said: hello
}

func ExampleRunner() {
	defer exampleServer()()
	type args struct {
		City string `json:"city" jsonschema:"the city"`
	}
	getWeather := client.MustFunc("get_weather", "Current weather in a city.",
		func(ctx context.Context, a args) (any, error) {
			return "sunny in " + a.City, nil
		})
	r := client.NewRunner(client.New(), getWeather)
	res, err := r.Run(context.Background(), client.ConversationRequest{
		Model:  "mistral-medium-latest",
		Inputs: client.UserMessage("What's the weather?"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text())
	// Output: Weather: sunny in Paris
}

func ExampleAPIError() {
	defer exampleServer()()
	_, err := client.New().Agents.Get(context.Background(), "ag_unknown")
	fmt.Println(client.StatusOf(err))
	// Output: 404
}

func ExampleAgentsService_All() {
	defer exampleServer()()
	ctx := context.Background()
	c := client.New()
	for _, name := range []string{"billing", "support"} {
		if _, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: "mistral-medium-latest", Name: name}); err != nil {
			log.Fatal(err)
		}
	}
	// Pages are fetched by cursor as the loop goes.
	for a, err := range c.Agents.All(ctx, &client.AgentListOptions{PageSize: 1}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(a.Name, a.Version)
	}
	// Output:
	// support 0
	// billing 0
}

func ExampleFilesService_Upload() {
	defer exampleServer()()
	ctx := context.Background()
	c := client.New()
	f, err := c.Files.Upload(ctx, client.FileUpload{Name: "notes.txt", Content: strings.NewReader("hello")})
	if err != nil {
		log.Fatal(err)
	}
	rc, err := c.Files.Download(ctx, f.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	fmt.Println(f.Filename, f.Bytes, string(b))
	// Output: notes.txt 5 hello
}

func ExampleHistory() {
	defer exampleServer()()
	ctx := context.Background()
	c := client.New()
	resp, err := c.Conversations.Start(ctx, client.ConversationRequest{Model: "mistral-medium-latest", Inputs: client.UserMessage("hi")})
	if err != nil {
		log.Fatal(err)
	}
	h, err := c.Conversations.History(ctx, resp.ConversationID)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range h.Entries {
		switch e := e.(type) {
		case *client.MessageInputEntry:
			fmt.Println("user:", e.Content)
		case *client.MessageOutputEntry:
			fmt.Println("assistant:", e.Content)
		default:
			fmt.Println(e.EntryType())
		}
	}
	// Output:
	// user: hi
	// assistant: You said: hi
}
