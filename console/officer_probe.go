package console

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// OfficerTestView is where the test SMS and call of `hotline officers
// test` are: what Twilio said when they were handed over, and what its
// status callbacks said since.
type OfficerTestView struct {
	Officer string          `json:"officer"`
	Phone   string          `json:"phone"` // masked
	SMS     TestAttemptView `json:"sms"`
	Call    TestAttemptView `json:"call"`
}

// TestAttemptView is one test SMS or call.
type TestAttemptView struct {
	Job       string           `json:"job"`
	State     hotline.JobState `json:"state"`
	Delivery  string           `json:"delivery,omitempty"` // Twilio's last status
	ErrorCode int              `json:"error_code,omitempty"`
	LastError string           `json:"last_error,omitempty"`
	// Pressed is set when the officer pressed 1 on the test call.
	Pressed bool `json:"pressed,omitempty"`
	// Final is set when nothing more will change: delivered, failed, or
	// refused by Twilio.
	Final bool `json:"final"`
}

// TestOfficer implements AdminService.
func (a *Admin) TestOfficer(ctx context.Context, name string) (OfficerTestView, error) {
	var v OfficerTestView
	err := a.st.Update(ctx, func(tx *store.Tx) error {
		o, found, err := tx.OfficerByName(cleanName(name))
		if err != nil {
			return err
		}
		if !found {
			return hotline.Errorf(hotline.ENOTFOUND, "no officer named %q", cleanName(name))
		}
		smsJob, callJob, err := dispatch.QueueOfficerTest(tx, o.ID)
		if err != nil {
			return err
		}
		v = OfficerTestView{Officer: o.Name, Phone: MaskPhone(o.Phone), SMS: TestAttemptView{Job: smsJob, State: hotline.JobPending},
			Call: TestAttemptView{Job: callJob, State: hotline.JobPending}}
		return tx.AppendAudit(store.AuditEntry{Actor: cliActor, Action: "officer.test", Object: o.ID, Via: "cli"})
	})
	if err == nil && a.disp != nil {
		a.disp.Wake()
	}
	return v, err
}

// OfficerTestResult implements AdminService.
func (a *Admin) OfficerTestResult(ctx context.Context, smsJob, callJob string) (OfficerTestView, error) {
	var v OfficerTestView
	err := a.st.View(func(tx *store.Tx) error {
		for _, p := range []struct {
			id   string
			kind hotline.JobKind
			out  *TestAttemptView
		}{{smsJob, hotline.JobTestSMS, &v.SMS}, {callJob, hotline.JobTestCall, &v.Call}} {
			j, err := tx.Job(p.id)
			if err != nil {
				return err
			}
			if j.Kind != p.kind {
				return hotline.Errorf(hotline.ENOTFOUND, "job %s is not an officer test", p.id)
			}
			*p.out = TestAttemptView{Job: j.ID, State: j.State, Delivery: j.Delivery, ErrorCode: j.ErrorCode,
				LastError: j.LastError, Pressed: j.Pressed, Final: j.Terminal()}
			if o, err := tx.Officer(j.OfficerID); err == nil {
				v.Officer, v.Phone = o.Name, MaskPhone(o.Phone)
			}
		}
		return nil
	})
	return v, err
}

// TestOfficer implements AdminService.
func (c *AdminClient) TestOfficer(ctx context.Context, name string) (OfficerTestView, error) {
	var v OfficerTestView
	err := c.doJSON(ctx, http.MethodPost, "/officers/test", map[string]string{"name": name}, &v)
	return v, err
}

// OfficerTestResult implements AdminService.
func (c *AdminClient) OfficerTestResult(ctx context.Context, smsJob, callJob string) (OfficerTestView, error) {
	var v OfficerTestView
	err := c.do(ctx, http.MethodGet, "/officers/test", url.Values{"sms": {smsJob}, "call": {callJob}}, nil, "", &v)
	return v, err
}

// officerTestRoutes adds:
//
//	POST /officers/test {"name": NAME}     → OfficerTestView
//	GET  /officers/test?sms=JOB&call=JOB   → OfficerTestView
func (h *adminHandler) officerTestRoutes(r *mux.Router) {
	r.HandleFunc("/officers/test", h.testOfficer).Methods(http.MethodPost)
	r.HandleFunc("/officers/test", h.officerTestResult).Methods(http.MethodGet)
}

func (h *adminHandler) testOfficer(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	v, err := h.a.TestOfficer(r.Context(), req.Name)
	writeResult(w, r, http.StatusOK, v, err)
}

func (h *adminHandler) officerTestResult(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v, err := h.a.OfficerTestResult(r.Context(), q.Get("sms"), q.Get("call"))
	writeResult(w, r, http.StatusOK, v, err)
}
