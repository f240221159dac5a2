#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace edgelens {

// Fixed-width columns for figures printed a row at a time (so a long run shows progress), or
// the same rows as a Markdown table to paste into the docs.
class TextTable final
{
public:
    struct Column
    {
        QString title;
        int width = 0;          // at least the title's length
        bool alignLeft = false; // names left, numbers right
    };

    TextTable(const QList<Column> &columns, bool markdown);

    QString header() const; // title line (and the Markdown separator), with a newline
    QString row(const QStringList &cells) const; // with a newline; missing cells are empty

private:
    QList<Column> m_columns;
    bool m_markdown;
};

} // namespace edgelens
