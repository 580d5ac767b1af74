package intake_test

import (
	"encoding/xml"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// twimlNode is a parsed TwiML element.
type twimlNode struct {
	Name     string
	Attrs    map[string]string
	Text     string
	Children []*twimlNode
}

func (n *twimlNode) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	n.Name, n.Attrs = start.Name.Local, map[string]string{}
	for _, a := range start.Attr {
		n.Attrs[a.Name.Local] = a.Value
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			c := &twimlNode{}
			if err := c.UnmarshalXML(d, tok); err != nil {
				return err
			}
			n.Children = append(n.Children, c)
		case xml.CharData:
			n.Text += strings.TrimSpace(string(tok))
		case xml.EndElement:
			return nil
		}
	}
}

// verbs names the verbs of the document, nested ones as Parent/Child.
func (n *twimlNode) verbs() []string {
	var out []string
	for _, c := range n.Children {
		out = append(out, c.Name)
		for _, g := range c.Children {
			out = append(out, c.Name+"/"+g.Name)
		}
	}
	return out
}

// find returns the first element named name, depth first.
func (n *twimlNode) find(name string) *twimlNode {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
		if f := c.find(name); f != nil {
			return f
		}
	}
	return nil
}

// plays lists the prompts played, as lang/name.
func (n *twimlNode) plays() []string {
	var out []string
	var walk func(*twimlNode)
	walk = func(x *twimlNode) {
		for _, c := range x.Children {
			if c.Name == "Play" {
				out = append(out, strings.TrimSuffix(strings.TrimPrefix(c.Text, publicURL+"/prompts/"), ".wav"))
			}
			walk(c)
		}
	}
	walk(n)
	return out
}

// documented are the TwiML verbs the voice line uses, with the attributes
// and nested verbs Twilio documents for them
// (https://www.twilio.com/docs/voice/twiml).
var documented = map[string]struct {
	attrs    []string
	children []string
}{
	"Gather": {[]string{"action", "actionOnEmptyResult", "finishOnKey", "hints", "input", "language", "method",
		"numDigits", "partialResultCallback", "partialResultCallbackMethod", "profanityFilter", "speechModel",
		"speechTimeout", "timeout", "enhanced", "bargeIn"}, []string{"Play", "Say", "Pause"}},
	"Play":     {[]string{"loop", "digits"}, nil},
	"Redirect": {[]string{"method"}, nil},
	"Hangup":   {nil, nil},
	"Pause":    {[]string{"length"}, nil},
	"Dial": {[]string{"action", "answerOnBridge", "callerId", "hangupOnStar", "method", "record", "recordingStatusCallback",
		"recordingStatusCallbackMethod", "recordingStatusCallbackEvent", "recordingTrack", "ringTone", "timeLimit", "timeout", "trim"},
		[]string{"Number"}},
	"Number": {[]string{"sendDigits", "url", "method", "statusCallbackEvent", "statusCallback", "statusCallbackMethod",
		"machineDetection", "amdStatusCallback", "amdStatusCallbackMethod", "machineDetectionTimeout"}, nil},
	"Record": {[]string{"action", "method", "timeout", "finishOnKey", "maxLength", "playBeep", "trim",
		"recordingStatusCallback", "recordingStatusCallbackMethod", "recordingStatusCallbackEvent", "transcribe", "transcribeCallback"}, nil},
}

// parseTwiML checks that body is well-formed TwiML using only documented
// verbs, attributes and nesting, with absolute URLs under the public URL.
func parseTwiML(t testing.TB, body string) *twimlNode {
	t.Helper()
	if !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Fatalf("TwiML without the XML declaration: %q", body)
	}
	var root twimlNode
	if err := xml.Unmarshal([]byte(body), &root); err != nil {
		t.Fatalf("TwiML is not well-formed XML: %v\n%s", err, body)
	}
	if root.Name != "Response" || len(root.Attrs) != 0 {
		t.Fatalf("root is <%s %v>, want a bare <Response>", root.Name, root.Attrs)
	}
	var check func(n *twimlNode, allowed []string)
	check = func(n *twimlNode, allowed []string) {
		for _, c := range n.Children {
			doc, ok := documented[c.Name]
			if !ok || (allowed != nil && !slices.Contains(allowed, c.Name)) {
				t.Fatalf("<%s> is not a documented verb here (inside <%s>)\n%s", c.Name, n.Name, body)
			}
			for a, v := range c.Attrs {
				if !slices.Contains(doc.attrs, a) {
					t.Fatalf("<%s %s=...> is not a documented attribute\n%s", c.Name, a, body)
				}
				if (a == "action" || a == "url" || a == "recordingStatusCallback") && !strings.HasPrefix(v, publicURL+"/") {
					t.Fatalf("<%s %s=%q> is not under the public URL", c.Name, a, v)
				}
				if a == "method" && v != "POST" {
					t.Fatalf("<%s method=%q>, want POST (the webhooks take POST only)", c.Name, v)
				}
			}
			if len(c.Children) > 0 && doc.children == nil {
				t.Fatalf("<%s> may not contain verbs\n%s", c.Name, body)
			}
			check(c, doc.children)
		}
	}
	check(&root, []string{"Gather", "Play", "Redirect", "Hangup", "Pause", "Dial", "Record"})
	return &root
}

// gatherStep is the step of the first <Gather> in doc.
func gatherStep(t testing.TB, doc *twimlNode) string {
	t.Helper()
	g := doc.find("Gather")
	if g == nil {
		t.Fatalf("no <Gather> in %v", doc.verbs())
	}
	u, err := url.Parse(g.Attrs["action"])
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("step")
}
