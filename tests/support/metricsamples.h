#pragma once

// Reading series out of a Prometheus text exposition (/metrics, ServerMetrics::exposition()).
// A series that is not there is not zero: the value is NaN and a warning names the series, so
// that QCOMPARE(value, 0.0), QVERIFY(value > 0) and differences of values all fail when a
// series a test relies on is missing or was renamed.

#include <QByteArray>
#include <QString>

#include <optional>

namespace edgelens::test {

// The sample of one series, written as exposed: `name{label="value",...}` or a bare `name`.
std::optional<double> metricSample(const QByteArray &exposition, const QString &series);
// metricSample(), NaN (with a warning naming the series) when it is missing.
double metricValue(const QByteArray &exposition, const QString &series);
// The sum of every series of the metric `name` whose labels contain `labelPart` (empty: all);
// NaN (with a warning) when there is none.
double metricSum(const QByteArray &exposition, const QString &name, const QString &labelPart = QString());

} // namespace edgelens::test
