#include "englishplurals.h"

namespace edgelens {

EnglishPlurals::EnglishPlurals(QObject *parent)
    : QTranslator(parent)
{
}

QString EnglishPlurals::translate(const char *, const char *sourceText, const char *, int n) const
{
    if (n < 0 || !sourceText)
        return QString(); // not a plural form: keep the source text
    const QString source = QString::fromUtf8(sourceText);
    if (!source.contains(QLatin1String("(s)")) && !source.contains(QLatin1String("(es)")))
        return QString();
    return resolve(source, n);
}

QString EnglishPlurals::resolve(const QString &source, int n)
{
    QString text = source;
    const bool one = n == 1;
    text.replace(QLatin1String("(s)"), one ? QString() : QStringLiteral("s"));
    text.replace(QLatin1String("(es)"), one ? QString() : QStringLiteral("es")); // "box(es)"
    if (one) {
        text.replace(QLatin1String(") are "), QLatin1String(") is "));
        text.replace(QLatin1String(" are "), QLatin1String(" is "));
        text.replace(QLatin1String(" were "), QLatin1String(" was "));
    }
    return text;
}

} // namespace edgelens
