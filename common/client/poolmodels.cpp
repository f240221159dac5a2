#include "poolmodels.h"

#include "client/detectionclient.h"

#include <QMap>

namespace edgelens {

void PoolModels::ask(DetectionClient &client, const QString &requestedModel)
{
    const QList<DeviceSpec> devices = client.devices();
    QStringList names;
    for (const DeviceSpec &device : devices) {
        if (device.enabled)
            names.append(device.resultName());
    }
    reset(names, requestedModel);
    m_requests.clear();
    for (const DeviceSpec &device : devices) {
        if (!device.enabled)
            continue;
        if (device.protocol == DeviceSpec::Protocol::Legacy)
            noAnswer(device.resultName());
        else
            m_requests.insert(client.requestServerInfo(device.resultName()), device.resultName());
    }
}

bool PoolModels::takeAnswer(quint64 id, const QJsonObject &info, const QString &device)
{
    if (!m_requests.remove(id))
        return false;
    describe(device, info);
    return true;
}

std::optional<QString> PoolModels::takeFailure(quint64 id)
{
    const auto it = m_requests.constFind(id);
    if (it == m_requests.cend())
        return std::nullopt;
    const QString device = *it;
    m_requests.erase(it);
    noAnswer(device);
    return device;
}

void PoolModels::reset(const QStringList &devices, const QString &requestedModel)
{
    m_devices = devices;
    m_requested = requestedModel;
    m_served.clear();
    m_silent.clear();
}

void PoolModels::describe(const QString &device, const QJsonObject &info)
{
    m_silent.removeAll(device);
    m_served.insert(device, ServedModel::fromServerInfo(info, m_requested));
}

void PoolModels::noAnswer(const QString &device)
{
    if (!m_served.contains(device) && !m_silent.contains(device))
        m_silent.append(device);
}

bool PoolModels::anyDescribed() const
{
    return !m_served.isEmpty();
}

bool PoolModels::complete() const
{
    for (const QString &device : m_devices) {
        if (!m_served.contains(device) && !m_silent.contains(device))
            return false;
    }
    return true;
}

QSize PoolModels::input() const
{
    if (m_devices.isEmpty() || !m_silent.isEmpty())
        return QSize();
    QSize largest(0, 0);
    for (const QString &device : m_devices) {
        const auto it = m_served.constFind(device);
        if (it == m_served.cend() || it->input.isEmpty())
            return QSize(); // not described yet, or no input size given: nothing to reduce to safely
        largest = largest.expandedTo(it->input);
    }
    return largest;
}

QString PoolModels::markupNote(const QString &device) const
{
    return m_served.value(device).markupNote;
}

QString PoolModels::modelName(const QString &device) const
{
    return m_served.value(device).name;
}

QString PoolModels::disagreement() const
{
    QMap<QString, QStringList> devicesOf; // model -> devices, sorted by model for a stable text
    for (const QString &device : m_devices) {
        const auto it = m_served.constFind(device);
        if (it != m_served.cend() && it->found) // a DeepStack server's list says nothing of its default
            devicesOf[it->name].append(device);
    }
    if (devicesOf.size() < 2)
        return QString();
    QStringList parts;
    for (auto it = devicesOf.cbegin(); it != devicesOf.cend(); ++it)
        parts << QStringLiteral("%1 on %2").arg(it.key(), it.value().join(QStringLiteral(", ")));
    return QStringLiteral("the devices run different models: ") + parts.join(QStringLiteral("; "));
}

} // namespace edgelens
