package intake

// AlertPromptNames are the prompts the alert call plays besides digits
// and letters.
var AlertPromptNames = alertPromptNames

// CodePrompts exposes how the alert call reads a case code.
func CodePrompts(code string) []string { return codePrompts(code) }
