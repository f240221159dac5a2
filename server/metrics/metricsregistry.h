#pragma once

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QPair>
#include <QString>

#include <initializer_list>
#include <map>
#include <vector>

namespace edgelens {

// Label name/value pairs in the order they are printed: {{"protocol", "http"}, {"code", "400"}}.
using MetricLabels = QList<QPair<QString, QString>>;

// Counters, gauges and histograms, safe to update from any thread (network threads and the
// worker pool), rendered in Prometheus' text exposition format 0.0.4. Families must be declared
// before use; an update of an undeclared family or of the wrong type is ignored with a warning,
// so a typo never takes a serving process down.
class MetricsRegistry final
{
    Q_DISABLE_COPY_MOVE(MetricsRegistry)

public:
    enum class Type { Counter, Gauge, Histogram };

    MetricsRegistry() = default;

    // `name` is the full family name (counters end in _total). Histograms take their upper
    // bucket bounds in increasing order; +Inf is added.
    void declare(const QString &name, Type type, const QString &help, const QList<double> &buckets = {});

    void add(const QString &name, const MetricLabels &labels = {}, double delta = 1.0); // counter, gauge
    void set(const QString &name, const MetricLabels &labels, double value);            // gauge
    void observe(const QString &name, const MetricLabels &labels, double value);        // histogram
    // Drops every series of a gauge family (e.g. model info before it is set again).
    void clear(const QString &name);

    // Counter or gauge value, histogram observation count; 0 for a series never touched.
    double value(const QString &name, const MetricLabels &labels = {}) const;

    QByteArray exposition() const;

    static QString formatValue(double value);        // Prometheus' float spelling (+Inf, NaN)
    static QString escapeLabelValue(const QString &value);

private:
    struct Series
    {
        double value = 0;                // counter, gauge; histogram: sum
        quint64 count = 0;               // histogram
        std::vector<quint64> buckets;    // histogram, not cumulative
    };
    struct Family
    {
        Type type = Type::Counter;
        QString help;
        QList<double> bounds;
        std::map<QString, Series> series; // rendered label set -> series
    };

    Family *family(const QString &name, std::initializer_list<Type> accepted, const char *operation);
    static QString renderLabels(const MetricLabels &labels);

    mutable QMutex m_mutex;
    std::map<QString, Family> m_families;
};

} // namespace edgelens
