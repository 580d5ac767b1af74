package intake

import "net/url"

// ValidSignature exposes the linear signature check, so tests can compare
// it with twilio-go's validator.
func ValidSignature(authToken, fullURL string, form url.Values, signature string) bool {
	return signingKey(authToken).valid(urlVariants(fullURL), signedParams(form), signature)
}

// WellFormedSignature exposes the check made before a body is read.
func WellFormedSignature(h string) bool { return wellFormedSignature(h) }

// NamesAccount exposes the raw-body account check made before parsing.
func NamesAccount(body []byte, sid string) bool { return namesAccount(body, sid) }
