package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-az/hotline/store"
)

// diskCollector reports the data file's health: free space against the
// floor, and failed writes. Read at scrape time; statfs is cheap.
type diskCollector struct{ st *store.Store }

var (
	descFreeBytes = prometheus.NewDesc("hotline_data_dir_free_bytes",
		"Free space in the file system of data_dir, in bytes.", nil, nil)
	descMinFree = prometheus.NewDesc("hotline_data_dir_min_free_bytes",
		"The min_free_space floor; free space under it is warned about (0: no warning).", nil, nil)
	descSpaceLow = prometheus.NewDesc("hotline_data_dir_space_low",
		"1 while free space in data_dir is under min_free_space.", nil, nil)
	descWriteFailing = prometheus.NewDesc("hotline_store_write_failing",
		"1 while the last write to the data file failed (tips are refused; /readyz fails).", nil, nil)
	descWriteFailures = prometheus.NewDesc("hotline_store_write_failures_total",
		"Commits to the data file that failed (a full disk, an I/O error).", nil, nil)
)

func (c *diskCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFreeBytes, descMinFree, descSpaceLow, descWriteFailing, descWriteFailures} {
		ch <- d
	}
}

func (c *diskCollector) Collect(ch chan<- prometheus.Metric) {
	if free, err := c.st.FreeSpace(); err == nil {
		ch <- prometheus.MustNewConstMetric(descFreeBytes, prometheus.GaugeValue, float64(free))
	}
	ch <- prometheus.MustNewConstMetric(descMinFree, prometheus.GaugeValue, float64(c.st.MinFreeSpace()))
	ch <- prometheus.MustNewConstMetric(descSpaceLow, prometheus.GaugeValue, boolGauge(c.st.LowOnSpace()))
	ch <- prometheus.MustNewConstMetric(descWriteFailing, prometheus.GaugeValue, boolGauge(c.st.Healthy() != nil))
	ch <- prometheus.MustNewConstMetric(descWriteFailures, prometheus.CounterValue, float64(c.st.WriteFailures()))
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
