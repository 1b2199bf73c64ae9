import "./model";
import "./rollup";
import "./repos";
import "./demo";
import "./bench";
