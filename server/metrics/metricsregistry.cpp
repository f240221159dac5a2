#include "metricsregistry.h"

#include <QLocale>
#include <QLoggingCategory>
#include <QMutexLocker>

#include <cmath>

Q_LOGGING_CATEGORY(lcMetrics, "edgelens.metrics")

namespace edgelens {

namespace {

const char *typeName(MetricsRegistry::Type type)
{
    switch (type) {
    case MetricsRegistry::Type::Counter: return "counter";
    case MetricsRegistry::Type::Gauge: return "gauge";
    case MetricsRegistry::Type::Histogram: return "histogram";
    }
    return "untyped";
}

QString escapeHelp(const QString &help)
{
    QString out = help;
    out.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
    out.replace(QLatin1Char('\n'), QLatin1String("\\n"));
    return out;
}

// The label set with one more label appended (le for histogram buckets).
QString withLabel(const QString &rendered, const QString &name, const QString &value)
{
    const QString extra = name + QLatin1String("=\"") + value + QLatin1Char('"');
    if (rendered.isEmpty())
        return QLatin1Char('{') + extra + QLatin1Char('}');
    return rendered.left(rendered.size() - 1) + QLatin1Char(',') + extra + QLatin1Char('}');
}

} // namespace

void MetricsRegistry::declare(const QString &name, Type type, const QString &help, const QList<double> &buckets)
{
    QMutexLocker locker(&m_mutex);
    Family &f = m_families[name];
    f.type = type;
    f.help = help;
    f.bounds = buckets;
}

MetricsRegistry::Family *MetricsRegistry::family(const QString &name, std::initializer_list<Type> accepted,
                                                 const char *operation)
{
    const auto it = m_families.find(name);
    if (it == m_families.end()) {
        qCWarning(lcMetrics) << operation << "on undeclared metric" << name;
        return nullptr;
    }
    for (const Type type : accepted) {
        if (it->second.type == type)
            return &it->second;
    }
    qCWarning(lcMetrics) << operation << "on" << typeName(it->second.type) << name;
    return nullptr;
}

void MetricsRegistry::add(const QString &name, const MetricLabels &labels, double delta)
{
    QMutexLocker locker(&m_mutex);
    Family *f = family(name, {Type::Counter, Type::Gauge}, "add");
    if (!f)
        return;
    if (f->type == Type::Counter && delta < 0) {
        qCWarning(lcMetrics) << "negative increment of counter" << name;
        return;
    }
    f->series[renderLabels(labels)].value += delta;
}

void MetricsRegistry::set(const QString &name, const MetricLabels &labels, double value)
{
    QMutexLocker locker(&m_mutex);
    if (Family *f = family(name, {Type::Gauge}, "set"))
        f->series[renderLabels(labels)].value = value;
}

void MetricsRegistry::observe(const QString &name, const MetricLabels &labels, double value)
{
    QMutexLocker locker(&m_mutex);
    Family *f = family(name, {Type::Histogram}, "observe");
    if (!f)
        return;
    Series &s = f->series[renderLabels(labels)];
    if (s.buckets.empty())
        s.buckets.assign(size_t(f->bounds.size()), 0);
    for (int i = 0; i < f->bounds.size(); ++i) {
        if (value <= f->bounds.at(i)) {
            ++s.buckets[size_t(i)];
            break;
        }
    }
    s.value += value;
    ++s.count;
}

void MetricsRegistry::clear(const QString &name)
{
    QMutexLocker locker(&m_mutex);
    const auto it = m_families.find(name);
    if (it != m_families.end())
        it->second.series.clear();
}

double MetricsRegistry::value(const QString &name, const MetricLabels &labels) const
{
    QMutexLocker locker(&m_mutex);
    const auto it = m_families.find(name);
    if (it == m_families.end())
        return 0;
    const auto s = it->second.series.find(renderLabels(labels));
    if (s == it->second.series.end())
        return 0;
    return it->second.type == Type::Histogram ? double(s->second.count) : s->second.value;
}

QByteArray MetricsRegistry::exposition() const
{
    QMutexLocker locker(&m_mutex);
    QString out;
    for (const auto &[name, f] : m_families) {
        out += QLatin1String("# HELP ") + name + QLatin1Char(' ') + escapeHelp(f.help) + QLatin1Char('\n');
        out += QLatin1String("# TYPE ") + name + QLatin1Char(' ') + QLatin1String(typeName(f.type)) + QLatin1Char('\n');
        for (const auto &[labels, s] : f.series) {
            if (f.type != Type::Histogram) {
                out += name + labels + QLatin1Char(' ') + formatValue(s.value) + QLatin1Char('\n');
                continue;
            }
            quint64 cumulative = 0;
            for (int i = 0; i < f.bounds.size(); ++i) {
                cumulative += s.buckets.empty() ? 0 : s.buckets[size_t(i)];
                out += name + QLatin1String("_bucket") + withLabel(labels, QStringLiteral("le"), formatValue(f.bounds.at(i)))
                    + QLatin1Char(' ') + QString::number(cumulative) + QLatin1Char('\n');
            }
            out += name + QLatin1String("_bucket") + withLabel(labels, QStringLiteral("le"), QStringLiteral("+Inf"))
                + QLatin1Char(' ') + QString::number(s.count) + QLatin1Char('\n');
            out += name + QLatin1String("_sum") + labels + QLatin1Char(' ') + formatValue(s.value) + QLatin1Char('\n');
            out += name + QLatin1String("_count") + labels + QLatin1Char(' ') + QString::number(s.count) + QLatin1Char('\n');
        }
    }
    return out.toUtf8();
}

QString MetricsRegistry::formatValue(double value)
{
    if (std::isnan(value))
        return QStringLiteral("NaN");
    if (std::isinf(value))
        return value > 0 ? QStringLiteral("+Inf") : QStringLiteral("-Inf");
    if (value == std::floor(value) && std::fabs(value) < 1e15)
        return QString::number(qint64(value));
    return QString::number(value, 'g', QLocale::FloatingPointShortest);
}

QString MetricsRegistry::escapeLabelValue(const QString &value)
{
    QString out;
    out.reserve(value.size());
    for (const QChar c : value) {
        if (c == QLatin1Char('\\'))
            out += QLatin1String("\\\\");
        else if (c == QLatin1Char('"'))
            out += QLatin1String("\\\"");
        else if (c == QLatin1Char('\n'))
            out += QLatin1String("\\n");
        else
            out += c;
    }
    return out;
}

QString MetricsRegistry::renderLabels(const MetricLabels &labels)
{
    if (labels.isEmpty())
        return {};
    QString out = QStringLiteral("{");
    for (int i = 0; i < labels.size(); ++i) {
        if (i > 0)
            out += QLatin1Char(',');
        out += labels.at(i).first + QLatin1String("=\"") + escapeLabelValue(labels.at(i).second) + QLatin1Char('"');
    }
    return out + QLatin1Char('}');
}

} // namespace edgelens
