#include "emulator/IdcSql.h"

#include <Poco/String.h>

#include <cctype>
#include <vector>

namespace emulator::idc {

namespace {

struct Token {
    enum class Kind { Word, Literal, Quoted, Comment, Space, Semicolon, Other } kind;
    std::size_t begin, end;
};

bool wordChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || (c & 0x80);
}

/// Splits SQL into tokens; returns false on an unterminated literal, quoted name or comment.
bool tokenize(const std::string& s, std::vector<Token>& out) {
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const std::size_t start = i;
        const char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            while (i < n && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
            out.push_back({Token::Kind::Space, start, i});
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n') ++i;
            out.push_back({Token::Kind::Comment, start, i});
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const auto close = s.find("*/", i + 2);
            if (close == std::string::npos) return false;
            i = close + 2;
            out.push_back({Token::Kind::Comment, start, i});
        } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
            const char close = c == '[' ? ']' : c;
            ++i;
            for (;;) {
                if (i >= n) return false;
                if (s[i] == close) {
                    if (close != ']' && i + 1 < n && s[i + 1] == close) {  // doubled quote
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                ++i;
            }
            out.push_back({c == '\'' ? Token::Kind::Literal : Token::Kind::Quoted, start, i});
        } else if (c == ';') {
            ++i;
            out.push_back({Token::Kind::Semicolon, start, i});
        } else if (wordChar(c)) {
            while (i < n && wordChar(s[i])) ++i;
            out.push_back({Token::Kind::Word, start, i});
        } else {
            ++i;
            out.push_back({Token::Kind::Other, start, i});
        }
    }
    return true;
}

bool ignorable(const Token& t) { return t.kind == Token::Kind::Space || t.kind == Token::Kind::Comment; }

}  // namespace

std::optional<std::string> sqlGuardError(const std::string& sql) {
    std::vector<Token> tokens;
    if (!tokenize(sql, tokens)) return "Unterminated string literal, quoted identifier or comment";
    std::size_t i = 0;
    while (i < tokens.size() && ignorable(tokens[i])) ++i;
    if (i == tokens.size()) return "Empty query";
    const Token& first = tokens[i];
    const std::string word = Poco::toUpper(sql.substr(first.begin, first.end - first.begin));
    if (first.kind != Token::Kind::Word || (word != "SELECT" && word != "WITH"))
        return "Only SELECT or WITH queries are allowed";
    bool ended = false;
    for (; i < tokens.size(); ++i) {
        if (tokens[i].kind == Token::Kind::Semicolon)
            ended = true;
        else if (!ignorable(tokens[i]) && ended)
            return "Only a single SQL statement is allowed";
    }
    return std::nullopt;
}

std::string rewriteIndexTable(const std::string& sql) {
    std::vector<Token> tokens;
    if (!tokenize(sql, tokens)) return sql;
    std::string out;
    out.reserve(sql.size() + 16);
    for (const auto& t : tokens) {
        const std::string text = sql.substr(t.begin, t.end - t.begin);
        if (t.kind == Token::Kind::Word && Poco::icompare(text, "index") == 0)
            out += "\"index\"";
        else
            out += text;
    }
    return out;
}

}  // namespace emulator::idc
