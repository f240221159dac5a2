#include "metricsamples.h"

#include <QDebug>
#include <QList>

#include <limits>

namespace edgelens::test {

namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// "name{labels} value" or "name value" -> (series, value); comments and blank lines are skipped.
bool splitSample(const QByteArray &line, QByteArray *series, double *value)
{
    if (line.isEmpty() || line.startsWith('#'))
        return false;
    const qsizetype space = line.lastIndexOf(' ');
    if (space <= 0)
        return false;
    bool ok = false;
    *value = line.mid(space + 1).toDouble(&ok);
    *series = line.left(space);
    return ok;
}

} // namespace

std::optional<double> metricSample(const QByteArray &exposition, const QString &series)
{
    const QByteArray wanted = series.toUtf8();
    for (const QByteArray &line : exposition.split('\n')) {
        QByteArray name;
        double value = 0;
        if (splitSample(line, &name, &value) && name == wanted)
            return value;
    }
    return std::nullopt;
}

double metricValue(const QByteArray &exposition, const QString &series)
{
    const std::optional<double> value = metricSample(exposition, series);
    if (!value) {
        qWarning().noquote() << "metric series" << series << "is missing from the exposition";
        return kMissing;
    }
    return *value;
}

double metricSum(const QByteArray &exposition, const QString &name, const QString &labelPart)
{
    const QByteArray metric = name.toUtf8();
    const QByteArray part = labelPart.toUtf8();
    double sum = 0;
    int found = 0;
    for (const QByteArray &line : exposition.split('\n')) {
        QByteArray series;
        double value = 0;
        if (!splitSample(line, &series, &value))
            continue;
        const bool sameMetric = series == metric || (series.startsWith(QByteArray(metric + '{')) && series.endsWith('}'));
        if (!sameMetric || (!part.isEmpty() && !series.contains(part)))
            continue;
        sum += value;
        ++found;
    }
    if (found == 0) {
        qWarning().noquote() << "metric" << name << (labelPart.isEmpty() ? QString() : QStringLiteral("with ") + labelPart)
                             << "has no series in the exposition";
        return kMissing;
    }
    return sum;
}

} // namespace edgelens::test
