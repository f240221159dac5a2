#include "servedmodel.h"

#include <QJsonArray>
#include <QJsonValue>

namespace edgelens {

ServedModel ServedModel::fromServerInfo(const QJsonObject &info, const QString &requestedModel)
{
    ServedModel served;
    const QJsonArray models = info.value(QStringLiteral("models")).toArray();
    for (const QJsonValue &value : models) {
        const QJsonObject model = value.toObject();
        const bool chosen = requestedModel.isEmpty() ? model.value(QStringLiteral("default")).toBool()
                                                     : model.value(QStringLiteral("name")).toString() == requestedModel;
        if (!chosen)
            continue;
        served.found = true;
        served.name = model.value(QStringLiteral("name")).toString();
        served.input = QSize(model.value(QStringLiteral("input_width")).toInt(),
                             model.value(QStringLiteral("input_height")).toInt());
        const QString family = model.value(QStringLiteral("family")).toString();
        if (model.value(QStringLiteral("fallback")).toBool() || family == QLatin1String("cascade"))
            served.markupNote = QStringLiteral("fallback detector: ") + model.value(QStringLiteral("name")).toString();
        break;
    }
    return served;
}

} // namespace edgelens
