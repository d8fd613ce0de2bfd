// Package servelog reads what tests need from `controlplane serve --log-format json`: the
// addresses it listens on, which the "listening" line gives once both servers are bound.
package servelog

import "encoding/json"

// Listening returns the ADS and monitoring addresses if line is serve's "listening" record.
func Listening(line []byte) (ads, monitoring string, ok bool) {
	var rec struct {
		Msg            string `json:"msg"`
		ADSAddr        string `json:"ads_addr"`
		MonitoringAddr string `json:"monitoring_addr"`
	}
	if json.Unmarshal(line, &rec) != nil || rec.Msg != "listening" {
		return "", "", false
	}
	return rec.ADSAddr, rec.MonitoringAddr, true
}
