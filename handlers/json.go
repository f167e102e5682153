package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// bindJSON decodes a JSON body into v, answering 400 with a clear message
// when it is not JSON, has unknown fields, or is too large.
func bindJSON(c *gin.Context, v any) bool {
	if err := decodeJSON(c, v); err != nil {
		jsonError(c, err)
		return false
	}
	return true
}

// decodeJSON is bindJSON without the answer: the request body into v,
// refusing unknown fields.
func decodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// jsonError answers a body decodeJSON refused, saying what is wrong in
// the API's terms (a field's name, where the JSON breaks), never in Go's.
func jsonError(c *gin.Context, err error) {
	var (
		mbe    *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	msg := "The request body is not valid JSON."
	switch {
	case errors.As(err, &mbe):
		apiError(c, http.StatusRequestEntityTooLarge, "too_large", "The request body is too large.")
		return
	case errors.Is(err, io.EOF):
		msg = "The request body is empty: send a JSON object."
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "The request body is not valid JSON: it ends too soon."
	case errors.As(err, &syntax):
		msg = fmt.Sprintf("The request body is not valid JSON: see character %d.", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		msg = fmt.Sprintf("The field %q has the wrong type (%s).", typ.Field, typ.Value)
	case errors.As(err, &typ):
		msg = "The request body must be a JSON object."
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		msg = "The field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + " is not known here."
	}
	apiError(c, http.StatusBadRequest, "bad_request", msg)
}

// patchFields reads a JSON object whose values are strings, numbers, booleans
// or null into strings keyed by field, for overlaying onto a form-style input.
// Unknown fields are refused so that a typo is never silently ignored.
func patchFields(c *gin.Context, known map[string]*string) (map[string]json.RawMessage, bool) {
	var raw map[string]json.RawMessage
	if !bindJSON(c, &raw) {
		return nil, false
	}
	for k, v := range raw {
		dst, ok := known[k]
		if !ok {
			continue
		}
		s, err := jsonScalar(v)
		if err != nil {
			apiError(c, http.StatusBadRequest, "bad_request", fmt.Sprintf("Field %q must be a string, a number or null.", k))
			return nil, false
		}
		*dst = s
	}
	return raw, true
}

func jsonScalar(v json.RawMessage) (string, error) {
	t := strings.TrimSpace(string(v))
	switch {
	case t == "null":
		return "", nil
	case strings.HasPrefix(t, `"`):
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case t == "true" || t == "false":
		return t, nil
	}
	if _, err := strconv.ParseFloat(t, 64); err != nil {
		return "", err
	}
	return t, nil
}

// unknownField names the first field of raw that is neither known nor allowed.
func unknownField(raw map[string]json.RawMessage, known map[string]*string, also ...string) string {
	for k := range raw {
		if _, ok := known[k]; ok {
			continue
		}
		allowed := false
		for _, a := range also {
			allowed = allowed || a == k
		}
		if !allowed {
			return k
		}
	}
	return ""
}
