#pragma once

// English plurals for the untranslated UI. Source strings are written the way Qt's
// translation tools expect ("%n image(s) are ...") so real translations can be added; with
// no translation installed Qt would show "(s)" literally. This translator resolves those
// forms for English: "(s)" becomes "" or "s", "(es)" "" or "es" ("%n box(es)"), and
// "are"/"is" follows the count.

#include <QTranslator>

namespace edgelens {

class EnglishPlurals final : public QTranslator
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EnglishPlurals)

public:
    explicit EnglishPlurals(QObject *parent = nullptr);

    bool isEmpty() const override { return false; }
    QString translate(const char *context, const char *sourceText, const char *disambiguation = nullptr,
                      int n = -1) const override;

    static QString resolve(const QString &source, int n);
};

} // namespace edgelens
